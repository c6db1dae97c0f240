// Private helper rules: one capability each. Every family's namespace gets a copy, so rules
// can combine them (`cs_ssh and py_http_send`). No public rule fires on one capability alone:
// boto3 reads ~/.aws/credentials, requests POSTs, coverage calls exec.
// Every pattern is anchored on a literal; shapes without one are measured in Rust and passed
// in as globals (pthscan_layer_depth, pthscan_longest_b64, pthscan_startup_hook, pthscan_code).
// Rules with `scope = "any-file"` in their meta (and use no helper) also run over files that are
// not code — extension modules, web assets, data; the rest run over code only.
// The capability helpers hold only in code (Python source or bytecode, shell scripts, decoded
// layers): a tokenizer vocabulary or a bundled web page names every API without calling any.

private rule py_http_send {
  strings:
    $a1 = "requests.post(" $a2 = "requests.put(" $a3 = "requests.request(" $a4 = "httpx.post("
    $a5 = "urlopen(" $a6 = "urllib.request.Request(" $a7 = "HTTPSConnection(" $a8 = "HTTPConnection("
    $a9 = "session.post(" $a10 = "pycurl." $a11 = "smtplib.SMTP" $a12 = "ftplib.FTP("
    $b1 = "urlopen" fullword $b2 = "HTTPSConnection" fullword $b3 = "HTTPConnection" fullword
    $a13 = /['" ]curl ['"\-]/ $a14 = /['" ]wget ['"\-]/ $a15 = "requests.get(" $a16 = "aiohttp.ClientSession(" $a17 = "urlretrieve("
  condition:
    pthscan_code and any of them
}

private rule py_spawn {
  strings:
    $a1 = "subprocess." $a2 = "Popen(" $a3 = /os\.system\s*\(/ $a4 = /os\.popen\s*\(/ $a5 = "os.execv"
    $a6 = "os.execl" $a7 = "os.spawn" $a8 = "pty.spawn(" $a9 = "os.posix_spawn" $a10 = "check_output("
    $a11 = "from subprocess import" $a12 = "os.startfile("
  condition:
    pthscan_code and any of them
}

private rule py_exec {
  strings:
    $a1 = /(^|[^.\w])exec\s*\(/ $a2 = /(^|[^.\w])eval\s*\(/ $a3 = "exec(compile("
  condition:
    pthscan_code and any of them
}

private rule py_archive {
  strings:
    $a1 = "tarfile.open(" $a2 = "zipfile.ZipFile(" $a3 = "make_archive(" $a4 = /tar -?c[zjJ]?f/ $a5 = "py7zr."
  condition:
    pthscan_code and any of them
}

private rule host_recon {
  strings:
    $a1 = "gethostname()" $a2 = "getpass.getuser()" $a3 = "os.getlogin()" $a4 = "platform.node()"
    $a5 = "os.uname()" $a6 = "whoami" $a7 = "ipinfo.io" $a8 = "ifconfig.me" $a9 = "ipify.org"
    $a10 = "icanhazip" $a11 = "platform.platform()" $a12 = "getuser()" $a13 = "ip-api.com"
    $a14 = "checkip.amazonaws.com" $a15 = "COMPUTERNAME" $a16 = "getfqdn()"
  condition:
    any of them
}
// Raw sockets and DNS: how beacons leave without HTTP.
private rule py_net_raw {
  strings:
    $a1 = "socket.socket(" $a2 = "create_connection(" $a3 = ".sendto(" $a4 = "gethostbyname(" $a5 = "dns.resolver"
    $a6 = "getaddrinfo("
  condition:
    pthscan_code and any of them
}
// Walking or reading many files.
private rule py_file_sweep {
  strings:
    $a1 = "os.walk(" $a2 = "glob.glob(" $a3 = "os.listdir(" $a4 = "expanduser(" $a5 = "Path.home()" $a6 = "rglob("
  condition:
    pthscan_code and any of them
}
// Places that serve payloads: chat-app attachment CDNs, raw paste sites, file drops.
private rule payload_host {
  strings:
    $a1 = "cdn.discordapp.com/attachments/" $a2 = "media.discordapp.net/attachments/" $a3 = "pastebin.com/raw"
    $a4 = "paste.ee/r/" $a5 = "rentry.co/" $a6 = "dl.dropbox.com/" $a7 = "dropbox.com/s/" $a8 = "transfer.sh/"
    $a9 = "hastebin.com/raw" $a10 = "paste.bingner.com" $a11 = "ghostbin" $a12 = "controlc.com" $a13 = "anonfiles"
    $a14 = "gofile.io" $a15 = "files.catbox.moe" $a16 = "filebin.net" $a17 = "/-/raw/"
  condition:
    any of them
}
// Reading the process environment or where it runs.
private rule py_env_read {
  strings:
    $a1 = "os.environ" $a2 = "os.getenv(" $a3 = "getcwd()" $a4 = "environ.get(" $a5 = "environ["
  condition:
    pthscan_code and any of them
}
// Words of a shell command line that fetches or runs a program.
private rule shell_words {
  strings:
    $a1 = "powershell" nocase $a2 = "cmd.exe" nocase $a3 = "cmd /c" nocase $a4 = "/bin/sh" $a5 = "bash -c"
    $a6 = "sh -c" $a7 = "start /B" nocase $a8 = "chmod +x" $a9 = "nohup" $a10 = "mshta" nocase
    $a11 = "certutil" nocase $a12 = "bitsadmin" nocase $a13 = /\.(exe|vbs|vbe|scr|hta|wsf|ps1)\b/ nocase $a14 = /['" ]curl ['"\-]/
    $a15 = /['" ]wget ['"\-]/ $a16 = "rundll32" nocase
    $a17 = /['"]python[0-9.]*(\.exe)?['"]\s*,\s*['"]-c['"]/ $a18 = /python[0-9.]*(\.exe)? -c /
  condition:
    any of them
}
// Turning stored bytes back into code or data.
private rule py_decode {
  strings:
    $a1 = "b64decode" $a2 = "decrypt(" $a3 = "decompress(" $a4 = "fromhex(" $a5 = "unhexlify("
    $a6 = "marshal.loads" $a7 = "codecs.decode(" $a8 = "b32decode" $a9 = "b85decode" $a10 = "rot13" nocase
    $a11 = ".decode('hex')" $a12 = "[::-1]"
  condition:
    pthscan_code and any of them
}

// Credential stores, one rule per kind (docs/threats/litellm.md#what-it-harvested); `rotate` names
// the class a rule made of them reports to rotate when the store was named.
private rule cs_ssh {
  meta:
    rotate = "ssh"
  strings:
    $a1 = "id_rsa" fullword $a2 = "id_ed25519" fullword $a3 = "id_ecdsa" fullword $a4 = "id_dsa" fullword
    $a5 = ".ssh/" $a6 = "\".ssh\"" $a7 = "'.ssh'"
  condition:
    any of them
}
private rule cs_ssh_private_key {
  meta:
    rotate = "ssh"
  strings:
    $a1 = "id_rsa" fullword $a2 = "id_ed25519" fullword $a3 = "id_ecdsa" fullword $a4 = "id_dsa" fullword
  condition:
    any of them
}
private rule cs_aws {
  meta:
    rotate = "cloud"
  strings:
    $a1 = ".aws/credentials" $a2 = "'.aws'" $a3 = "\".aws\"" $a4 = "AWS_SECRET_ACCESS_KEY"
  condition:
    any of them
}
private rule cs_gcp {
  meta:
    rotate = "cloud"
  strings:
    $a1 = "application_default_credentials.json" $a2 = ".config/gcloud" $a3 = "GOOGLE_APPLICATION_CREDENTIALS"
  condition:
    any of them
}
private rule cs_azure {
  meta:
    rotate = "cloud"
  strings:
    $a1 = ".azure/" $a2 = "'.azure'" $a3 = "\".azure\"" $a4 = "accessTokens.json" $a5 = "msal_token_cache"
  condition:
    any of them
}
private rule cs_kube {
  meta:
    rotate = "kubernetes"
  strings:
    $a1 = ".kube/config" $a2 = "serviceaccount/token" $a3 = "/etc/kubernetes/" $a4 = "'.kube'" $a5 = "\".kube\""
  condition:
    any of them
}
private rule cs_docker {
  meta:
    rotate = "docker"
  strings:
    $a1 = ".docker/config.json" $a2 = "'.docker'" $a3 = "\".docker\""
  condition:
    any of them
}
private rule cs_git {
  meta:
    rotate = "git"
  strings:
    $a1 = ".git-credentials" $a2 = ".gitconfig"
  condition:
    any of them
}
private rule cs_history {
  meta:
    rotate = "tokens"
  strings:
    $a1 = ".bash_history" $a2 = ".zsh_history" $a3 = ".mysql_history" $a4 = ".psql_history"
    $a5 = ".rediscli_history" $a6 = ".python_history"
  condition:
    any of them
}
private rule cs_dotenv {
  meta:
    rotate = "tokens"
  strings:
    $a1 = ".env.local" $a2 = ".env.production" $a3 = ".env.staging" $a4 = "'.env'" $a5 = "\".env\""
  condition:
    any of them
}
private rule cs_tokens {
  meta:
    rotate = "tokens"
  strings:
    $a1 = ".npmrc" $a2 = ".pypirc" $a3 = ".vault-token" $a4 = ".netrc" $a5 = ".pgpass" $a6 = ".my.cnf"
  condition:
    any of them
}
private rule cs_wallets {
  meta:
    rotate = "wallets"
  strings:
    $a1 = "wallet.dat" $a2 = "Electrum" $a3 = "Exodus" $a4 = ".bitcoin" $a5 = "Ethereum" $a6 = "keystore"
    $a7 = "solana" $a8 = "Monero" $a9 = "nkbihfbeogaeaoehlefnkodbefgpgknn" $a10 = "Atomic" $a11 = ".litecoin"
    $a12 = "Phantom" $a13 = "Coinomi" $a14 = "Guarda" $a15 = "Jaxx"
  condition:
    2 of them
}
private rule cs_browser {
  meta:
    rotate = "browser"
  strings:
    $a1 = "Login Data" $a2 = "logins.json" $a3 = "key4.db" $a4 = "Web Data" $a5 = "cookies.sqlite"
    $a6 = "Local State"
  condition:
    any of them
}
private rule cs_system {
  meta:
    rotate = "system"
  strings:
    $a1 = "/etc/shadow" $a2 = "/etc/ssl/private" $a3 = "/proc/self/environ"
  condition:
    any of them
}
private rule cs_cicd {
  meta:
    rotate = "ci"
  strings:
    $a1 = "terraform.tfvars" $a2 = ".gitlab-ci.yml" $a3 = ".travis.yml" $a4 = "Jenkinsfile" $a5 = ".drone.yml"
    $a6 = "ansible.cfg"
  condition:
    any of them
}

private rule cred_store_count_3 {
  condition:
    3 of (cs_ssh, cs_aws, cs_gcp, cs_azure, cs_kube, cs_docker, cs_git, cs_history, cs_dotenv,
          cs_tokens, cs_wallets, cs_browser, cs_system, cs_cicd)
}

// Services used to receive stolen data or to test reachability from a victim.
private rule drop_service {
  strings:
    $a1 = "webhook.site" $a2 = "pipedream.net" $a3 = "requestbin" $a4 = "transfer.sh" $a5 = "file.io/"
    $a6 = "0x0.st" $a7 = "bashupload.com" $a8 = "oastify.com" $a9 = "burpcollaborator.net"
    $a10 = "interact.sh" $a11 = "oast.fun" $a12 = "oast.me" $a13 = "oast.pro" $a14 = "oast.live"
    $a15 = "oast.site" $a16 = "oast.online" $a17 = "dnslog.cn" $a18 = "ceye.io" $a19 = "pastebin.com/api"
    $a20 = "hastebin" $a21 = "anonfiles" $a22 = "gofile.io" $a23 = "canarytokens"
    $a24 = "dnshook.site" $a25 = "requestcatcher.com" $a26 = "beeceptor.com" $a27 = "hookbin.com"
    $a28 = "ngrok.io" $a29 = "ngrok-free.app" $a30 = "trycloudflare.com" $a31 = "m.pipedream.net"
    $a32 = "eo.pipedream" $a33 = "requestrepo.com" $a34 = "oast.pw" $a35 = "bxss.me" $a36 = "sslip.io"
    $a37 = "nip.io/" $a38 = "serveo.net" $a39 = "localtunnel.me" $a40 = "loca.lt"
    $a41 = "ngrok-free.dev" $a42 = "ngrok.app" $a43 = "ngrok.dev" $a44 = "ngrok.pizza"
  condition:
    any of them
}
