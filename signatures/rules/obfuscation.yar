// Obfuscation: code that hides what it runs. Running decoded or decompressed data is the
// signal; `exec(compile(source, path, "exec"))` (coverage, setuptools, runpy) is not.

rule obf_exec_decoded {
  meta:
    id = "obf-exec-decoded"
    severity = "high"
    description = "executes data it has just decoded or decompressed: exec/eval of base64, hex, zlib, lzma, bz2, marshal or codecs output"
    reference = "docs/threats/litellm.md#execution-and-payload-layering, docs/threats/signals.md#shapes-of-malicious-start-up-code"
    fix = "remove"
  strings:
    $a = /(exec|eval)\s*\(\s*(compile\s*\(\s*)?(__import__\s*\(\s*['"](base64|zlib|marshal|codecs|lzma|bz2|gzip|binascii)['"]\s*\)\s*\.|(base64|zlib|marshal|codecs|lzma|bz2|gzip|binascii|bytes)\s*\.)?(b64decode|b32decode|b16decode|b85decode|a85decode|urlsafe_b64decode|decodebytes|decompress|unhexlify|a2b_base64|fromhex|decode)\s*\(/
    $m = /(exec|eval)\s*\(\s*(marshal\.)?loads\s*\(/
    $line = /\b(exec|eval)\s*\([^\n]{0,200}(b64decode|b85decode|b32decode|decompress|unhexlify)\s*\(/
  condition:
    any of them
}

rule obf_decode_then_exec {
  meta:
    id = "obf-decode-then-exec"
    severity = "high"
    description = "decodes a payload into a variable and executes or spawns it a few lines later"
    reference = "docs/threats/litellm.md#execution-and-payload-layering (1.82.7: base64 decoded, then run through subprocess)"
    fix = "remove"
  strings:
    $a = /(b64decode|decompress|unhexlify|fromhex|marshal\.loads)\s*\([\s\S]{0,400}[^.\w](exec|eval)\s*\(/
    $b = /(b64decode|decompress|unhexlify|fromhex)\s*\([\s\S]{0,400}subprocess\.(Popen|run|call)\s*\(\s*\[\s*sys\.executable/
  condition:
    any of them
}

rule obf_import_decode_exec {
  meta:
    id = "obf-import-decode-exec"
    severity = "high"
    description = "the one-liner obfuscator shape: __import__('zlib'/'base64'/'marshal') decoders behind a lambda, then exec"
    reference = "docs/threats/signals.md#shapes-of-malicious-start-up-code; pyobfuscate / Hyperion-style packers seen in PyPI malware"
    fix = "remove"
  strings:
    $imp = /__import__\s*\(\s*['"](base64|zlib|marshal|lzma|bz2|codecs|binascii)['"]\s*\)\s*\.\s*(b64decode|b32decode|b85decode|decompress|loads|decode|unhexlify)/
  condition:
    $imp and py_exec
}

rule obf_chr_join_exec {
  meta:
    id = "obf-chr-join"
    severity = "high"
    description = "builds code or a command from character codes (chr() chains, ''.join(map(chr, …))) and runs it"
    reference = "docs/threats/signals.md#shapes-of-malicious-start-up-code; common string hiding in PyPI malware"
    fix = "remove"
  strings:
    $join = /join\s*\(\s*(map\s*\(\s*chr\s*,|\[?\s*chr\s*\()[\s\S]{0,600}(exec|eval|os\.system|os\.popen|Popen)\s*\(/
    $wrap = /(exec|eval|system|popen)\s*\(\s*['"]{2}\s*\.\s*join\s*\(\s*(map\s*\(\s*chr|\[?\s*chr\s*\()/
    $cat = /chr\(\d{1,3}\)\s*\+\s*chr\(\d{1,3}\)\s*\+\s*chr\(/
  condition:
    ($join or $wrap or #cat > 2) and (py_exec or py_spawn)
}

rule obf_long_literal_exec {
  meta:
    id = "obf-long-literal-exec"
    severity = "medium"
    description = "a file that executes dynamic code also holds a very long encoded literal (2 KiB or more of base64 characters)"
    reference = "docs/threats/signals.md#shapes-of-malicious-start-up-code (very long literals); measured in Rust, not by a regex"
    fix = "review"
  condition:
    pthscan_longest_b64 >= 2048 and py_exec
}

rule obf_nested_encoding {
  meta:
    id = "obf-nested-encoding"
    severity = "high"
    description = "code found two or more encoded layers deep that executes, spawns or imports more code"
    reference = "docs/threats/litellm.md#execution-and-payload-layering (double and triple base64 in the LiteLLM chain)"
    fix = "remove"
  strings:
    $imp = "import " $b = /b64decode\s*\(\s*(base64\.)?b64decode/
  condition:
    (pthscan_layer_depth >= 2 and $imp and (py_exec or py_spawn)) or $b
}

rule obf_marshal_exec {
  meta:
    id = "obf-marshal-exec"
    severity = "high"
    description = "loads marshalled bytecode from a literal and runs it (hides source from readers and scanners)"
    reference = "docs/threats/signals.md#shapes-of-malicious-start-up-code"
    fix = "remove"
  strings:
    $m = "marshal.loads(" $f = "types.FunctionType(" $lit = /marshal\.loads\s*\(\s*b['"]/
  condition:
    $lit or ($m and $f) or ($m and py_exec and pthscan_longest_b64 >= 256)
}

rule obf_builtins_lookup {
  meta:
    id = "obf-builtins-lookup"
    severity = "medium"
    description = "reaches exec/eval/__import__ through a string lookup on builtins, so the call name never appears"
    reference = "docs/threats/signals.md#shapes-of-malicious-start-up-code"
    fix = "review"
  strings:
    $a = /getattr\s*\(\s*(__builtins__|builtins|globals\(\)\s*\[\s*['"]__builtins__['"]\s*\])\s*,\s*['"](ex|ev|__im)/
    $b = /__builtins__\s*\.\s*__dict__\s*\[\s*['"](exec|eval|__import__)/
    $c = /getattr\s*\(\s*(__builtins__|builtins)\s*,\s*['"][a-z_]{1,6}['"]\s*\+/
  condition:
    any of them
}

rule obf_fernet_exec {
  meta:
    id = "obf-fernet-exec"
    severity = "high"
    description = "executes code decrypted with a key that sits next to it (exec(Fernet(key).decrypt(blob))): encryption used only to hide the code"
    reference = "https://github.com/lxyeternal/pypi_malregistry: the Fernet loader shape shared by hundreds of typosquats"
    fix = "remove"
  strings:
    $f = "Fernet(" $d = ".decrypt("
  condition:
    $f and $d and py_exec
}

rule obf_repr_char_picking {
  meta:
    id = "obf-repr-char-picking"
    severity = "high"
    description = "spells names by picking characters out of the text of built-in objects (oct.__str__()[-3], copyright.__str__()[4]): an obfuscator's way to hide every name it uses"
    reference = "https://github.com/lxyeternal/pypi_malregistry: the character-picking obfuscator of the 'requests-toolbelt' typosquats"
    fix = "remove"
  strings:
    $s = /(oct|hex|copyright|credits|license|bin|chr|ord|str|type|int)\.__str__\(\)\[/
    $b = "__builtins__"
  condition:
    #s > 3 and $b
}

rule obf_escaped_builtin {
  meta:
    id = "obf-escaped-builtin"
    severity = "high"
    description = "writes the name exec, eval, compile or __import__ in hex or octal escape codes to call it unseen"
    reference = "https://github.com/lxyeternal/pypi_malregistry: escaped-name loaders (urllib3loader and kin)"
    fix = "remove"
  strings:
    // every spelling in hex (either case) and octal escapes, generated: literals, not a regex
    $eval0 = "\\145\\166\\141\\154" $eval1 = "\\145\\166\\141\\x6C" $eval2 = "\\145\\166\\141\\x6c" $eval3 = "\\145\\166\\x61\\154" $eval4 = "\\145\\166\\x61\\x6C" $eval5 = "\\145\\166\\x61\\x6c"
    $eval6 = "\\145\\x76\\141\\154" $eval7 = "\\145\\x76\\141\\x6C" $eval8 = "\\145\\x76\\141\\x6c" $eval9 = "\\145\\x76\\x61\\154" $eval10 = "\\145\\x76\\x61\\x6C" $eval11 = "\\145\\x76\\x61\\x6c"
    $eval12 = "\\x65\\166\\141\\154" $eval13 = "\\x65\\166\\141\\x6C" $eval14 = "\\x65\\166\\141\\x6c" $eval15 = "\\x65\\166\\x61\\154" $eval16 = "\\x65\\166\\x61\\x6C" $eval17 = "\\x65\\166\\x61\\x6c"
    $eval18 = "\\x65\\x76\\141\\154" $eval19 = "\\x65\\x76\\141\\x6C" $eval20 = "\\x65\\x76\\141\\x6c" $eval21 = "\\x65\\x76\\x61\\154" $eval22 = "\\x65\\x76\\x61\\x6C" $eval23 = "\\x65\\x76\\x61\\x6c"
    $exec0 = "\\145\\170\\145\\143" $exec1 = "\\145\\170\\145\\x63" $exec2 = "\\145\\170\\x65\\143" $exec3 = "\\145\\170\\x65\\x63" $exec4 = "\\145\\x78\\145\\143" $exec5 = "\\145\\x78\\145\\x63"
    $exec6 = "\\145\\x78\\x65\\143" $exec7 = "\\145\\x78\\x65\\x63" $exec8 = "\\x65\\170\\145\\143" $exec9 = "\\x65\\170\\145\\x63" $exec10 = "\\x65\\170\\x65\\143" $exec11 = "\\x65\\170\\x65\\x63"
    $exec12 = "\\x65\\x78\\145\\143" $exec13 = "\\x65\\x78\\145\\x63" $exec14 = "\\x65\\x78\\x65\\143" $exec15 = "\\x65\\x78\\x65\\x63"
    $import0 = "\\151\\155\\160\\157" $import1 = "\\151\\155\\160\\x6F" $import2 = "\\151\\155\\160\\x6f" $import3 = "\\151\\155\\x70\\157" $import4 = "\\151\\155\\x70\\x6F" $import5 = "\\151\\155\\x70\\x6f"
    $import6 = "\\151\\x6D\\160\\157" $import7 = "\\151\\x6D\\160\\x6F" $import8 = "\\151\\x6D\\160\\x6f" $import9 = "\\151\\x6D\\x70\\157" $import10 = "\\151\\x6D\\x70\\x6F" $import11 = "\\151\\x6D\\x70\\x6f"
    $import12 = "\\151\\x6d\\160\\157" $import13 = "\\151\\x6d\\160\\x6F" $import14 = "\\151\\x6d\\160\\x6f" $import15 = "\\151\\x6d\\x70\\157" $import16 = "\\151\\x6d\\x70\\x6F" $import17 = "\\151\\x6d\\x70\\x6f"
    $import18 = "\\x69\\155\\160\\157" $import19 = "\\x69\\155\\160\\x6F" $import20 = "\\x69\\155\\160\\x6f" $import21 = "\\x69\\155\\x70\\157" $import22 = "\\x69\\155\\x70\\x6F" $import23 = "\\x69\\155\\x70\\x6f"
    $import24 = "\\x69\\x6D\\160\\157" $import25 = "\\x69\\x6D\\160\\x6F" $import26 = "\\x69\\x6D\\160\\x6f" $import27 = "\\x69\\x6D\\x70\\157" $import28 = "\\x69\\x6D\\x70\\x6F" $import29 = "\\x69\\x6D\\x70\\x6f"
    $import30 = "\\x69\\x6d\\160\\157" $import31 = "\\x69\\x6d\\160\\x6F" $import32 = "\\x69\\x6d\\160\\x6f" $import33 = "\\x69\\x6d\\x70\\157" $import34 = "\\x69\\x6d\\x70\\x6F" $import35 = "\\x69\\x6d\\x70\\x6f"
    $compile0 = "\\143\\157\\155\\160" $compile1 = "\\143\\157\\155\\x70" $compile2 = "\\143\\157\\x6D\\160" $compile3 = "\\143\\157\\x6D\\x70" $compile4 = "\\143\\157\\x6d\\160" $compile5 = "\\143\\157\\x6d\\x70"
    $compile6 = "\\143\\x6F\\155\\160" $compile7 = "\\143\\x6F\\155\\x70" $compile8 = "\\143\\x6F\\x6D\\160" $compile9 = "\\143\\x6F\\x6D\\x70" $compile10 = "\\143\\x6F\\x6d\\160" $compile11 = "\\143\\x6F\\x6d\\x70"
    $compile12 = "\\143\\x6f\\155\\160" $compile13 = "\\143\\x6f\\155\\x70" $compile14 = "\\143\\x6f\\x6D\\160" $compile15 = "\\143\\x6f\\x6D\\x70" $compile16 = "\\143\\x6f\\x6d\\160" $compile17 = "\\143\\x6f\\x6d\\x70"
    $compile18 = "\\x63\\157\\155\\160" $compile19 = "\\x63\\157\\155\\x70" $compile20 = "\\x63\\157\\x6D\\160" $compile21 = "\\x63\\157\\x6D\\x70" $compile22 = "\\x63\\157\\x6d\\160" $compile23 = "\\x63\\157\\x6d\\x70"
    $compile24 = "\\x63\\x6F\\155\\160" $compile25 = "\\x63\\x6F\\155\\x70" $compile26 = "\\x63\\x6F\\x6D\\160" $compile27 = "\\x63\\x6F\\x6D\\x70" $compile28 = "\\x63\\x6F\\x6d\\160" $compile29 = "\\x63\\x6F\\x6d\\x70"
    $compile30 = "\\x63\\x6f\\155\\160" $compile31 = "\\x63\\x6f\\155\\x70" $compile32 = "\\x63\\x6f\\x6D\\160" $compile33 = "\\x63\\x6f\\x6D\\x70" $compile34 = "\\x63\\x6f\\x6d\\160" $compile35 = "\\x63\\x6f\\x6d\\x70"
  condition:
    any of them
}

rule obf_xor_exec {
  meta:
    id = "obf-xor-exec"
    severity = "high"
    description = "decodes text with a character-wise XOR and executes it or imports by the decoded name"
    reference = "https://github.com/lxyeternal/pypi_malregistry: XOR loaders (chr(ord(a) ^ ord(b)) → eval(compile(...)), __import__(''.join(chr(x ^ y) ...)))"
    fix = "remove"
  strings:
    $xor = /chr\s*\(\s*(ord\s*\()?[\w\[\]]+\)?\s*\^/
    $import = /__import__\s*\(\s*['"]{2}\.join\s*\(\s*chr\s*\(/
  condition:
    $import or ($xor and py_exec)
}

rule obf_zipimport_disguised {
  meta:
    id = "obf-zipimport-disguised"
    severity = "high"
    description = "imports code from a zip archive through zipimport and load_module, the way a payload hidden in a certificate or image file is run"
    reference = "https://github.com/lxyeternal/pypi_malregistry: aiohttp typosquats loading a zip disguised as server.crt"
    fix = "remove"
  strings:
    $a = /zipimporter\s*\([^\n]{0,200}\)\s*\.(load_module|exec_module)\s*\(/
    $alias = /import zipimporter as (\w+)/
    $load = /\)\s*\.load_module\s*\(/
  condition:
    $a or ($alias and $load)
}

rule obf_known_obfuscator {
  meta:
    id = "obf-known-obfuscator"
    severity = "high"
    description = "carries the mark of a public Python obfuscator favoured by stealer kits (pyobfuscate.com, BlankOBF, Hyperion) next to dynamic imports or exec"
    reference = "https://github.com/lxyeternal/pypi_malregistry: pyobfuscate/BlankOBF-wrapped stealers"
    fix = "remove"
  strings:
    $m1 = "pyobfuscate.com" $m2 = "pyobfuscate(" $m3 = "BlankOBF" $m4 = "Obfuscated with Hyperion" nocase
    $d1 = "__import__" $d2 = "exec(" $d3 = "eval("
  condition:
    any of ($m*) and any of ($d*)
}
