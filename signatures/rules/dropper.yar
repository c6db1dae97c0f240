// Droppers: download code or a program and run it.

rule drop_pipe_to_shell {
  meta:
    id = "drop-pipe-to-shell"
    severity = "high"
    description = "spawns a shell command that downloads and pipes into a shell or interpreter (curl … | sh)"
    reference = "docs/threats/litellm.md#related-campaigns (Axios RAT chain: curl, /tmp/ld.py, nohup python3)"
    fix = "remove"
  strings:
    $a = /(curl|wget)\s[^\n|]{0,200}\|\s*(sudo\s+)?(ba|z|da)?sh\b/
    $b = /(curl|wget)\s[^\n|]{0,200}\|\s*python[0-9.]*/
    // run out of sight: backgrounded, output thrown away
    $quiet1 = "nohup" $quiet2 = ">/dev/null" $quiet3 = "> /dev/null" $quiet4 = "DEVNULL" $quiet5 = "start_new_session"
  condition:
    ($a or $b) and py_spawn and (pthscan_startup_hook or pthscan_layer_depth > 0 or any of ($quiet*))
}

rule drop_download_exec {
  meta:
    id = "drop-download-exec"
    severity = "high"
    description = "fetches code over HTTP and executes it in-process (exec of a response body)"
    reference = "docs/threats/litellm.md#persistence (C2 polling loader)"
    fix = "remove"
  strings:
    $a = /(exec|eval)\s*\(\s*(requests\.get|\w*urlopen|urllib\.request\.urlopen|httpx\.get)\s*\(/
    $b = /(exec|eval)\s*\(\s*[\w.]+\.(text|content|read\(\))\s*[,)]/
  condition:
    $a or ($b and py_http_send)
}

rule drop_download_run {
  meta:
    id = "drop-download-run"
    severity = "high"
    description = "downloads a file to a temporary or hidden place, makes it executable or runs it"
    reference = "docs/threats/litellm.md#persistence, docs/threats/litellm.md#related-campaigns"
    fix = "remove"
  strings:
    $fetch = /(urlretrieve|urlopen|requests\.get|(curl|wget)\s+-[A-Za-z]*[oO])\s*[(\s][\s\S]{0,600}(os\.chmod\s*\([^\n]{0,120}(0o7|0o5|755|777|S_IEXEC|S_IXUSR)|chmod \+x|\.exe['"])/
    $run = /(os\.chmod\s*\(|chmod \+x|\.exe['"])[\s\S]{0,400}(Popen|os\.system|startfile|subprocess\.run|subprocess\.call)\s*\(/
    $tmp1 = "/tmp/" $tmp2 = "/dev/shm/" $tmp3 = "gettempdir()" $tmp4 = "APPDATA" $tmp5 = "TEMP"
    // or run from the working directory: ./payload
    $tmp6 = "'./{" $tmp7 = "\"./{" $tmp8 = "f'./" $tmp9 = "f\"./"
  condition:
    $fetch and $run and any of ($tmp*) and py_spawn
}

rule drop_powershell {
  meta:
    id = "drop-powershell"
    severity = "high"
    description = "runs PowerShell with an encoded command, a download cradle or a hidden window"
    reference = "MITRE https://attack.mitre.org/techniques/T1059/001/; Windows droppers on PyPI"
    fix = "remove"
  strings:
    $ps = "powershell" nocase
    $a1 = /-(enc|encodedcommand|ec)\s+[A-Za-z0-9+\/=]{20}/ nocase $a2 = "DownloadString" nocase $a3 = "DownloadFile" nocase
    $a4 = "Invoke-Expression" nocase $a5 = "IEX (" $a6 = "IEX(" $a7 = "Invoke-WebRequest" nocase
    $a8 = "-w hidden" nocase $a9 = "-windowstyle hidden" nocase
    $hidden1 = "-ExecutionPolicy Bypass" nocase $hidden2 = "Start-Process" nocase
  condition:
    $ps and ((any of ($a*) and (py_spawn or pthscan_layer_depth > 0))
      or (any of ($hidden*) and pthscan_layer_depth > 0))
}

rule drop_fetch_write_run {
  meta:
    id = "drop-fetch-write-run"
    severity = "high"
    description = "downloads a file into a temporary or per-user folder, writes it out and runs it"
    reference = "https://github.com/lxyeternal/pypi_malregistry: temp-folder droppers (requests.get → open(path, 'wb') → subprocess.run([path]))"
    fix = "remove"
  strings:
    $chain = /(requests\.get|urlopen|urlretrieve)\s*\([\s\S]{0,800}open\s*\([^\n]{0,160}['"]wb['"][\s\S]{0,600}(subprocess\.(run|call|Popen|check_call)\s*\(|os\.startfile\s*\(|os\.system\s*\()/
    $retrieve = /urlretrieve\s*\(\s*\w+\s*,\s*(\w+)\s*\)[\s\S]{0,400}(subprocess\.(run|call|Popen|check_call)\s*\(\s*\[?\s*\w+|os\.startfile\s*\()/
    $tmp1 = "gettempdir()" $tmp2 = "TEMP" $tmp3 = "APPDATA" $tmp4 = "/tmp/" $tmp5 = "mkdtemp("
  condition:
    (($chain and any of ($tmp*)) or $retrieve) and py_http_send
}

rule drop_payload_host {
  meta:
    id = "drop-payload-host"
    severity = "high"
    description = "fetches from a place that serves payloads (Discord attachment CDN, raw paste sites, file drops) and runs or saves what it gets"
    reference = "https://github.com/lxyeternal/pypi_malregistry: droppers fetching from cdn.discordapp.com, pastebin raw, Dropbox"
    fix = "remove"
  strings:
    $wb1 = "'wb'" $wb2 = "\"wb\""
    $sys = ".system("
    $prog = /(cdn\.discordapp\.com|media\.discordapp\.net)\/attachments\/[^'"\s]{0,200}\.(py|pyw|exe|scr|sh|bat|ps1|vbs|dll|jar|msi)['"]/
  condition:
    payload_host and py_http_send and (py_spawn or py_exec or any of ($wb*) or $sys or $prog)
}

rule drop_shell_fetch {
  meta:
    id = "drop-shell-fetch"
    severity = "high"
    description = "spawns curl or wget to fetch a program and run it (chmod +x, an .exe, a pipe to a shell)"
    reference = "https://github.com/lxyeternal/pypi_malregistry: curl/wget droppers and miners"
    fix = "remove"
  strings:
    $a = /(curl|wget)(\.exe)?\s[^\n]{0,300}https?:\/\/[^\n]{0,300}(chmod \+x|\.exe|&&\s*\.\/)/
  condition:
    $a and py_spawn
}

rule drop_cryptominer {
  meta:
    id = "drop-cryptominer"
    severity = "high"
    description = "starts a cryptocurrency miner: pool addresses, wallet arguments or miner names next to a process spawn"
    reference = "MITRE https://attack.mitre.org/techniques/T1496/; https://github.com/lxyeternal/pypi_malregistry miners (Dero, Monero)"
    fix = "remove"
  strings:
    $a1 = "stratum+tcp://" $a2 = "stratum+ssl://" $a3 = "xmrig" nocase $a4 = "--donate-level" $a5 = "dero1q"
    $a6 = "nicehash" nocase $a7 = "supportxmr" $a8 = "moneroocean" $a9 = "hashrate" nocase $a10 = "cpuminer"
    $a11 = "minexmr" $a12 = "--coin=" $a13 = "2miners.com" $a14 = "herominers"
  condition:
    any of them and py_spawn
}
