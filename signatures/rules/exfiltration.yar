// Exfiltration: where stolen data goes. A hard-coded chat webhook, a drop service, an
// uploading curl spawned from Python, an archive POSTed with a file-name header.

private rule cred_store_count_1 {
  condition:
    cs_ssh or cs_aws or cs_gcp or cs_azure or cs_kube or cs_docker or cs_git or cs_history or cs_dotenv
    or cs_tokens or cs_wallets or cs_browser or cs_system
}

rule exfil_chat_webhook {
  meta:
    id = "exfil-chat-webhook"
    severity = "high"
    scope = "any-file"
    description = "holds a hard-coded Discord or Slack webhook, or Telegram bot token: a ready-made channel for stolen data (client libraries take these as parameters)"
    reference = "docs/threats/signals.md#shapes-of-malicious-start-up-code; Common exfiltration channel of PyPI stealers"
    fix = "remove"
  strings:
    $discord = /discord(app)?\.com\/api\/webhooks\/[0-9]{15,21}\/[A-Za-z0-9_\-]{20,}/
    $telegram = /api\.telegram\.org\/bot[0-9]{6,12}:[A-Za-z0-9_\-]{30,}/
    $slack = /\/\/hooks\.slack\.com\/services\/T0*[1-9A-Z][A-Z0-9]{5,}\/B0*[1-9A-Z][A-Z0-9]{5,}\//
  condition:
    any of them
}

rule exfil_drop_service {
  meta:
    id = "exfil-drop-service"
    severity = "high"
    description = "sends to a request-capture, out-of-band or anonymous file-drop service (webhook.site, pipedream, Burp Collaborator, interactsh, transfer.sh, …) together with host details or secrets"
    reference = "docs/threats/signals.md#shapes-of-malicious-start-up-code; Dependency-confusion beacons and stealers on PyPI"
    fix = "remove"
  condition:
    drop_service and (py_http_send or py_net_raw or py_spawn)
}

rule exfil_curl_upload {
  meta:
    id = "exfil-curl-upload"
    severity = "high"
    description = "runs curl or wget from Python to upload a file or post data"
    reference = "docs/threats/litellm.md#encryption-and-exfiltration (curl POST of tpcp.tar.gz)"
    fix = "remove"
  strings:
    $shell = /(system|popen|Popen|run|call|check_output|getoutput)\s*\(\s*f?['"][^'"\n]{0,40}curl\s[^\n]{0,200}\s(-F|-d|--data(-binary|-raw)?|-T|--upload-file|-X\s*POST)[\s'",]/
    $list = /\[\s*['"]curl['"]\s*,[^\n\]]{0,200}['"](-F|-d|--data(-binary|-raw)?|-T|--upload-file)['"]/
    $wget = /(system|popen|Popen|run|call|check_output)\s*\(\s*f?['"\[][^\n]{0,40}wget[^\n]{0,120}--post-(file|data)/
  condition:
    any of them and py_spawn
}

rule exfil_archive_upload {
  meta:
    id = "exfil-archive-upload"
    severity = "high"
    description = "packs files from the home directory or credential stores into an archive and uploads it"
    reference = "docs/threats/litellm.md#encryption-and-exfiltration"
    fix = "remove"
    rotate = "ssh, cloud, kubernetes, docker, git, tokens"
  strings:
    $home1 = "expanduser(\"~\")" $home2 = "expanduser('~')" $home3 = "Path.home()" $home4 = "os.environ[\"HOME\"]"
    $home5 = "os.environ['HOME']"
    $up1 = "files={" $up2 = "files=" $up4 = "X-Filename" $up5 = "data=open("
  condition:
    py_archive and py_http_send and any of ($up*) and (any of ($home*) or cred_store_count_1)
}

rule exfil_filename_header {
  meta:
    id = "exfil-filename-header"
    severity = "high"
    description = "uploads with an X-Filename header naming an archive or encrypted blob, the TeamPCP exfiltration request shape"
    reference = "docs/threats/litellm.md#encryption-and-exfiltration (X-Filename: tpcp.tar.gz)"
    fix = "remove"
  strings:
    $h = "X-Filename" nocase
    $f = /X-Filename['"]?\s*[:,]\s*['"]?\s*[\w.\-{}]{1,64}\.(tar\.gz|tgz|zip|enc|bin|7z)/ nocase
  condition:
    $h and $f and (py_http_send or py_spawn)
}

rule exfil_telegram_stealer {
  meta:
    id = "exfil-telegram-stealer"
    severity = "high"
    description = "sends files or messages to a Telegram bot together with host details, browser or wallet data: a stealer's report channel"
    reference = "https://github.com/lxyeternal/pypi_malregistry: Telegram-reporting stealers (ip-api lookup, APPDATA sweep, sendDocument)"
    fix = "remove"
    rotate = "chat, browser"
  strings:
    $t = "api.telegram.org/bot"
    $m1 = "sendDocument" $m2 = "sendMessage" $m3 = "sendPhoto"
    $w1 = "APPDATA" $w2 = "LOCALAPPDATA" $w3 = "ImageGrab"
  condition:
    $t and any of ($m*) and py_http_send and (host_recon or cs_browser or cs_wallets or any of ($w*))
}

rule exfil_host_beacon {
  meta:
    id = "exfil-host-beacon"
    severity = "high"
    description = "sends the user name and the host name over the network: the call-home of a dependency-confusion probe or a stealer's first report"
    reference = "docs/threats/signals.md#shapes-of-malicious-start-up-code; Dependency-confusion beacons on PyPI (Birsan 2021 and copycats)"
    fix = "remove"
  strings:
    $user1 = "getuser()" $user2 = "getlogin()" $user3 = "whoami" $user4 = "'USERNAME'" $user5 = "\"USERNAME\""
    $user6 = "'USER'" $user7 = "\"USER\""
    $host1 = "gethostname()" $host2 = "platform.node()" $host3 = "COMPUTERNAME" $host4 = "os.uname()"
    $host5 = "getfqdn()"
  condition:
    (py_http_send or py_net_raw) and any of ($user*) and any of ($host*)
}

rule exfil_encoded_endpoint {
  meta:
    id = "exfil-encoded-endpoint"
    severity = "high"
    description = "sends a request to an address it decodes on the spot (requests.post(base64.b64decode(...))): the endpoint is hidden from a reader"
    reference = "https://github.com/lxyeternal/pypi_malregistry: stealers and beacons with base64-encoded collector URLs"
    fix = "remove"
  strings:
    $a = /(requests\.(post|get|put)|urlopen|Request|\.post|\.get)\s*\(\s*(url\s*=\s*)?(base64\.)?(b64decode|urlsafe_b64decode|b32decode|unhexlify|fromhex)\s*\(/
  condition:
    $a
}

rule exfil_dpapi_stealer {
  meta:
    id = "exfil-dpapi-stealer"
    severity = "high"
    description = "decrypts Windows DPAPI-protected secrets (browser passwords and cookies) and has a way to send them out"
    reference = "MITRE https://attack.mitre.org/techniques/T1555/003/; https://github.com/lxyeternal/pypi_malregistry Windows stealers"
    fix = "remove"
    rotate = "browser"
  strings:
    $d = "CryptUnprotectData"
    $out1 = "dropbox" nocase $out2 = "webhook" nocase $out3 = "smtplib" $out4 = "api.telegram.org"
  condition:
    $d and (py_http_send or any of ($out*))
}

rule exfil_dns_beacon {
  meta:
    id = "exfil-dns-beacon"
    severity = "high"
    description = "resolves a hard-coded deep subdomain, the way out-of-band beacons report that a package ran"
    reference = "docs/threats/signals.md#shapes-of-malicious-start-up-code; Dependency-confusion DNS beacons (interactsh-style callbacks)"
    fix = "remove"
  strings:
    $a = /gethostbyname(_ex)?\s*\(\s*f?['"][\w\-{}]+\.[\w\-{}]+\.[\w\-{}]+\.[\w\-]+/
  condition:
    $a and pthscan_code
}

rule exfil_env_dump {
  meta:
    id = "exfil-env-dump"
    severity = "high"
    description = "collects the whole process environment (every variable, secrets included) and sends it out encoded or with account data"
    reference = "https://github.com/lxyeternal/pypi_malregistry: environment-dumping probes (for a in os.environ … urlopen)"
    fix = "remove"
    rotate = "environment, cloud, ci"
  strings:
    $iter = /for\s+\w+\s+in\s+os\.environ\s*:|dumps\(\s*(dict\()?os\.environ|str\(os\.environ\)/
    $x1 = "/etc/passwd" $x2 = "b64encode" $x3 = "urlsafe_b64encode"
  condition:
    $iter and (py_http_send or py_net_raw) and (any of ($x*) or host_recon)
}
