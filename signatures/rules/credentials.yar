// Credential harvesting: reading where secrets live, combined with what makes it theft —
// sending, packing or sweeping many stores at once. One store plus its own client (boto3 and
// ~/.aws/credentials, paramiko and ~/.ssh/id_rsa, the kubernetes client and its token) is not.

rule cred_sweep_stores {
  meta:
    id = "cred-sweep-stores"
    severity = "high"
    description = "names three or more kinds of credential store (SSH, cloud, Kubernetes, Docker, git, dotenv, wallets, browsers, …) and can send, run or pack what it reads: an infostealer's sweep"
    reference = "docs/threats/litellm.md#what-it-harvested (the TeamPCP harvester)"
    fix = "remove"
    rotate = "ssh, cloud, kubernetes, docker, git, tokens, ci, wallets, browser, system"
  condition:
    cred_store_count_3 and (py_http_send or py_spawn or py_archive)
}

rule cred_ssh_keys {
  meta:
    id = "cred-ssh-keys"
    severity = "high"
    description = "reads SSH private keys and sends data over HTTP or to a chat webhook (an SSH client uses keys over SSH, not HTTP)"
    reference = "docs/threats/litellm.md#what-it-harvested"
    fix = "remove"
    rotate = "ssh"
  strings:
    $read1 = "expanduser(" $read2 = "Path.home()" $read3 = "/home/" $read4 = "/root/" $read5 = "os.walk(" $read6 = "glob("
  condition:
    cs_ssh_private_key and cs_ssh and any of ($read*) and py_http_send
}

rule cred_cloud_metadata {
  meta:
    id = "cred-imds-harvest"
    severity = "high"
    description = "asks the cloud instance-metadata service for credentials and also reads other credential stores or sends to a drop service"
    reference = "docs/threats/litellm.md#what-it-harvested (IMDS at 169.254.169.254); docs/threats/litellm.md#related-campaigns (kamikaze.sh)"
    fix = "remove"
    rotate = "cloud"
  strings:
    $imds1 = "169.254.169.254" $imds2 = "metadata.google.internal"
    $cred1 = "security-credentials" $cred2 = "service-accounts/default/token" $cred3 = "/metadata/identity/oauth2/token"
  condition:
    any of ($imds*) and any of ($cred*)
    and (cs_ssh_private_key or cs_docker or cs_git or cs_history or cs_browser or cs_wallets or drop_service)
}

rule cred_k8s_token_exfil {
  meta:
    id = "cred-k8s-token"
    severity = "high"
    description = "reads the Kubernetes service-account token and sends data to a drop service or reads other users' credentials with it"
    reference = "docs/threats/litellm.md#what-it-harvested, docs/threats/litellm.md#kubernetes-behaviour"
    fix = "remove"
    rotate = "kubernetes"
  strings:
    $token = "serviceaccount/token"
  condition:
    pthscan_code and $token and (drop_service or cs_ssh_private_key or cs_aws or cs_docker or cs_git)
}

rule cred_env_secrets {
  meta:
    id = "cred-env-secrets"
    severity = "high"
    description = "collects environment variables by secret-looking names (KEY, TOKEN, SECRET, PASSWORD) and sends them over the network"
    reference = "docs/threats/litellm.md#what-it-harvested (environment harvest)"
    fix = "remove"
    rotate = "environment, cloud, ci"
  strings:
    $env1 = "os.environ.items()" $env2 = "dict(os.environ)" $env3 = "os.environ.copy()" $env4 = "os.environ.keys()"
    $env5 = "/proc/self/environ" $env6 = "os.environ)" $env7 = "in os.environ:"
    $name1 = /['"](API_?)?KEY['"]/ $name2 = /['"]_?TOKEN['"]/ $name3 = /['"]_?SECRET['"]/ $name4 = /['"]PASSWORD['"]/
    $name5 = /['"]_KEY['"]/ $name6 = /['"]_SECRET_?['"]/
  condition:
    any of ($env*) and 2 of ($name*) and py_http_send
}

rule cred_proc_environ_scan {
  meta:
    id = "cred-proc-environ"
    severity = "high"
    description = "reads the environment of every process (/proc/<pid>/environ) or another process's memory: a CI secret harvester"
    reference = "docs/threats/litellm.md#related-campaigns (kamikaze.sh scans /proc/*/environ and Runner.Worker memory)"
    fix = "remove"
    rotate = "environment, cloud, ci"
  strings:
    $a1 = "/proc/*/environ" $a2 = /\/proc\/['"]?\s*\+\s*\w+\s*\+\s*['"]\/environ/ $a3 = /\/proc\/\{[\w.]+\}\/environ/
    $a4 = /\/proc\/\{[\w.]+\}\/mem['"]/ $a5 = "Runner.Worker" $a6 = "\"isSecret\":true"
  condition:
    any of ($a1, $a2, $a3) or ($a4 and ($a5 or $a6))
}

rule cred_dotenv_sweep {
  meta:
    id = "cred-dotenv-sweep"
    severity = "high"
    description = "walks directories for .env files and sends what it finds"
    reference = "docs/threats/litellm.md#what-it-harvested (.env, .env.local, .env.production, … up to six levels deep)"
    fix = "remove"
    rotate = "tokens"
  strings:
    $walk1 = "os.walk(" $walk2 = ".rglob(" $walk3 = "glob.glob(" $walk4 = "glob(\"**" $walk5 = "glob('**"
  condition:
    cs_dotenv and any of ($walk*) and (py_http_send or py_archive)
}

rule cred_wallets {
  meta:
    id = "cred-wallets"
    severity = "high"
    description = "looks for cryptocurrency wallets (wallet.dat, Electrum, Exodus, MetaMask, …) and sends or packs them"
    reference = "docs/threats/litellm.md#what-it-harvested (wallets)"
    fix = "remove"
    rotate = "wallets"
  condition:
    cs_wallets and (py_http_send or py_archive)
}

rule cred_browser_stores {
  meta:
    id = "cred-browser-stores"
    severity = "high"
    description = "reads browser password or cookie databases (Login Data, Local State, logins.json, key4.db) and sends or decrypts them"
    reference = "docs/threats/signals.md#shapes-of-malicious-start-up-code; Common in PyPI stealers (W4SP, Blank Grabber family)"
    fix = "remove"
    rotate = "browser"
  strings:
    $dec1 = "CryptUnprotectData" $dec2 = "encrypted_key" $dec3 = "AESGCM" $dec4 = "sqlite3.connect("
    // what carries the loot out besides the common senders: an imported ZipFile, an aiohttp
    // session (pypi_malregistry stealers bundled into setup.py with stickytape)
    $out1 = "ZipFile(" $out2 = "ClientSession("
  condition:
    cs_browser and any of ($dec*) and (py_http_send or py_archive or any of ($out*))
}

rule cred_secret_files_send {
  meta:
    id = "cred-secret-files"
    severity = "high"
    description = "reads git credentials, shell histories, /etc/shadow or database password files and sends data over the network"
    reference = "docs/threats/litellm.md#what-it-harvested"
    fix = "remove"
    rotate = "git, system, tokens"
  strings:
    $a1 = ".git-credentials" $a2 = "/etc/shadow"
  condition:
    (any of them or cs_history) and py_http_send and (host_recon or drop_service or py_archive)
}

rule cred_telegram_session {
  meta:
    id = "cred-telegram-session"
    severity = "high"
    description = "looks for Telegram client session files (*.session of Telethon/Pyrogram userbots) and uploads one: whoever holds it is logged in as the victim"
    reference = "https://github.com/lxyeternal/pypi_malregistry: userbot session stealers (Hikka, Heroku)"
    fix = "remove"
    rotate = "chat"
  strings:
    $s1 = "'.session'" $s2 = "\".session\"" $s3 = "tdata"
    $up = "files="
  condition:
    any of ($s*) and $up and py_http_send and py_file_sweep
}
