//! What a resolved dotted name does: the calls that bring data in (sources) and the calls where
//! data ends (sinks), and the path fragments of credential stores and persistence places.
//!
//! Names arrive canonical (see [`canonical`]): `builtins.exec` is `exec`, a call's result
//! `requests.Session().get` is `requests.Session.get`.

use crate::value::{Sink, Source};

/// The name without what does not change its meaning: the builtins module under any of its
/// spellings, `__dict__`, `globals()`, and the `()` of a call's result.
pub fn canonical(name: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in name.split('.') {
        let part = part.trim_end_matches("()");
        if part.is_empty() || part == "__dict__" {
            continue;
        }
        parts.push(part);
    }
    while let Some(first) = parts.first() {
        if matches!(
            *first,
            "builtins" | "__builtins__" | "__builtin__" | "globals" | "locals" | "vars"
        ) && parts.len() > 1
        {
            parts.remove(0);
        } else {
            break;
        }
    }
    parts.join(".")
}

/// Whether `name` is `module` or inside it.
fn under(name: &str, module: &str) -> bool {
    name == module
        || name
            .strip_prefix(module)
            .is_some_and(|rest| rest.starts_with('.'))
}

/// Modules whose calls talk to the network.
const NETWORK: &[&str] = &[
    "requests",
    "httpx",
    "urllib3",
    "aiohttp",
    "http.client",
    "httplib",
    "urllib.request",
    "urllib2",
    "urllib.urlopen",
    "socket",
    "ssl.wrap_socket",
    "websocket",
    "websockets",
    "pycurl",
    "ftplib",
    "telnetlib",
    "smtplib",
    "dns.resolver",
    "tornado.httpclient",
    "grequests",
    // cloud storage clients: a file-drop account's token in the code
    "dropbox",
];

/// Whether a call of `name` talks to the network.
pub fn is_network(name: &str) -> bool {
    NETWORK.iter().any(|m| under(name, m))
}

/// Calls of network modules that neither read nor send: address conversion, URL and path
/// arithmetic, configuration, exceptions (an exception class made to be raised: `urllib3`'s
/// `ClosedPoolError(self, "Pool is closed.")` sends nothing).
fn is_local_helper(last: &str) -> bool {
    last.ends_with("Error")
        || last.ends_with("Exception")
        || last.ends_with("Warning")
        || matches!(
            last,
            "inet_aton"
                | "inet_ntoa"
                | "inet_pton"
                | "inet_ntop"
                | "htons"
                | "ntohs"
                | "htonl"
                | "ntohl"
                | "getservbyname"
                | "setdefaulttimeout"
                | "getdefaulttimeout"
                | "timeout"
                | "error"
                | "gaierror"
                | "herror"
                | "Timeout"
                | "HTTPError"
                | "URLError"
                | "RequestException"
                | "ConnectionError"
                | "quote"
                | "unquote"
                | "urlencode"
                | "urlparse"
                | "urljoin"
                | "urlsplit"
                | "urlunparse"
                | "urlunsplit"
                | "quote_plus"
                | "unquote_plus"
                | "url2pathname"
                | "pathname2url"
                | "getproxies"
                | "Request"
        )
}

/// The source a call's result carries, by the callee's name.
pub fn source_of_call(name: &str) -> Option<Source> {
    let last = name.rsplit('.').next().unwrap_or(name);
    if is_network(name) {
        return match last {
            // the host's own name
            "gethostname" | "getfqdn" => Some(Source::Host),
            // address arithmetic and configuration, not reads
            _ if is_local_helper(last) => None,
            // a connection or client made: its reads are sources, not the object
            "socket" | "socketpair" | "fromfd" | "create_connection" | "create_server"
            | "Session" | "HTTPConnection" | "HTTPSConnection" | "PoolManager" | "ProxyManager"
            | "Client" | "AsyncClient" | "ClientSession" | "getsockname" | "getpeername"
            | "setsockopt" | "settimeout" | "setblocking" | "bind" | "listen" | "close"
            | "build_opener" | "install_opener" => None,
            _ => Some(Source::Network),
        };
    }
    if matches!(
        name,
        "platform.node"
            | "platform.uname"
            | "os.uname"
            | "getpass.getuser"
            | "os.getlogin"
            | "uuid.getnode"
            | "platform.platform"
            | "platform.system"
            | "platform.release"
            | "platform.version"
            | "os.getcwd"
    ) {
        return Some(Source::Host);
    }
    // `base64.b64decode(…)` and what is done to its result; `base64.b64encode(…).decode()`
    // only makes text of an encoding
    let decoding = under(name, "base64")
        && last.contains("decode")
        && name.split('.').nth(1).is_some_and(|f| f.contains("decode"))
        || matches!(
            name,
            "codecs.decode"
                | "zlib.decompress"
                | "bz2.decompress"
                | "lzma.decompress"
                | "gzip.decompress"
                | "marshal.loads"
                | "bytes.fromhex"
                | "bytearray.fromhex"
                | "binascii.unhexlify"
                | "binascii.a2b_base64"
                | "binascii.a2b_hex"
                | "binascii.a2b_uu"
        )
        || last == "decrypt"
        || under(name, "pyarmor_runtime")
        || last == "__pyarmor__";
    if decoding {
        return Some(Source::Decoded);
    }
    // DPAPI: how browser and Windows secrets are decrypted
    if last == "CryptUnprotectData" {
        return Some(Source::Credential);
    }
    if matches!(
        name,
        "pyperclip.paste" | "clipboard.paste" | "pyperclip3.paste" | "klembord.get"
    ) || last == "clipboard_get"
        || last == "GetClipboardData"
    {
        return Some(Source::Clipboard);
    }
    if under(name, "stegano")
        || under(name, "lsb")
        || under(name, "steganography")
        || under(name, "cryptosteganography")
        || last == "reveal"
    {
        return Some(Source::Hidden);
    }
    None
}

/// The sink a call of `name` is, if any. Writes (files, registry keys) are found by the
/// caller from the arguments.
pub fn sink_of_call(name: &str) -> Option<Sink> {
    let last = name.rsplit('.').next().unwrap_or(name);
    match name {
        "exec" | "eval" | "compile" | "execfile" => {
            return Some(Sink::Exec);
        }
        // a function made from a code object: code from data, run when called
        "types.FunctionType" | "FunctionType" | "types.CodeType" | "marshal.loads"
        | "marshal.load" | "pickle.loads" | "pickle.load" | "cPickle.loads" | "_pickle.loads"
        | "dill.loads" | "dill.load" | "cloudpickle.loads" => {
            return Some(Sink::Deserialize);
        }
        "os.system"
        | "os.popen"
        | "os.popen2"
        | "os.popen3"
        | "os.startfile"
        | "pty.spawn"
        | "commands.getoutput"
        | "commands.getstatusoutput"
        | "os.posix_spawn"
        | "os.posix_spawnp"
        | "asyncio.create_subprocess_exec"
        | "asyncio.create_subprocess_shell" => return Some(Sink::Process),
        "os.chmod" | "os.fchmod" | "os.lchmod" => return Some(Sink::Chmod),
        "pyperclip.copy" | "clipboard.copy" | "pyperclip3.copy" | "klembord.set" => {
            return Some(Sink::Clipboard);
        }
        _ => {}
    }
    if under(name, "subprocess") && !name.ends_with("CalledProcessError") {
        return Some(Sink::Process);
    }
    if name.starts_with("os.exec") || name.starts_with("os.spawn") {
        return Some(Sink::Process);
    }
    if matches!(last, "runsource" | "runcode") {
        return Some(Sink::Exec);
    }
    if matches!(
        last,
        "clipboard_append" | "SetClipboardText" | "SetClipboardData"
    ) {
        return Some(Sink::Clipboard);
    }
    if last == "chmod" {
        return Some(Sink::Chmod);
    }
    if is_network(name) && !is_local_helper(last) {
        return Some(Sink::Send);
    }
    None
}

/// Path fragments of credential stores an infostealer harvests (lower case, `/` separators).
const CREDENTIAL_PATHS: &[&str] = &[
    ".ssh/",
    "/.ssh",
    "id_rsa",
    "id_ed25519",
    "id_ecdsa",
    "id_dsa",
    ".aws/credentials",
    ".aws/config",
    ".kube/config",
    "serviceaccount/token",
    ".git-credentials",
    ".docker/config.json",
    "application_default_credentials.json",
    ".azure/",
    ".config/gcloud",
    ".npmrc",
    ".pypirc",
    ".vault-token",
    ".pgpass",
    ".netrc",
    "_history",
    "wallet.dat",
    "/etc/shadow",
    "login data",
    "/cookies",
    "local state",
    "keychain",
    "tdata",
    "local storage/leveldb",
    "electrum",
    "exodus",
    "terraform.tfvars",
    ".bitcoin",
    ".ethereum",
    // Telegram sessions (Telethon, Pyrogram, Hikka) and password databases
    ".session",
    ".kdbx",
];

/// File-name endings a stealer filters a directory listing by (`name.endswith(".session")`):
/// the files kept are credentials.
const CREDENTIAL_SUFFIXES: &[&str] = &[
    ".session",
    ".kdbx",
    "wallet.dat",
    ".ldb",
    ".ovpn",
    "id_rsa",
    "id_ed25519",
    ".ppk",
];

/// Whether a file-name ending or pattern (`".session"`, `"*.kdbx"`) picks credential files.
pub fn is_credential_suffix(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    CREDENTIAL_SUFFIXES.iter().any(|s| t.ends_with(s))
}

/// Whether a path names a credential store.
pub fn is_credential_path(text: &str) -> bool {
    let t = text.to_ascii_lowercase().replace('\\', "/");
    CREDENTIAL_PATHS.iter().any(|p| t.contains(p))
        || t.ends_with("/.env")
        || t == ".env"
        || t.ends_with(".env\"")
}

/// Path fragments of places that run what is written there later.
const PERSISTENCE_PATHS: &[&str] = &[
    ".bashrc",
    ".bash_profile",
    ".bash_login",
    "/.profile",
    ".zshrc",
    ".zprofile",
    ".zshenv",
    "/etc/profile",
    "/etc/bash.bashrc",
    "crontab",
    "/etc/cron",
    "/var/spool/cron",
    "systemd/system",
    "systemd/user",
    ".config/systemd",
    "launchagents",
    "launchdaemons",
    ".config/autostart",
    "/start menu/programs/startup",
    "currentversion/run",
    "/etc/rc.local",
    "/etc/init.d",
    "/etc/ld.so.preload",
    ".ssh/authorized_keys",
    "sitecustomize.py",
    "usercustomize.py",
    ".pth",
    // what runs a program in place of another: UAC-bypass hijacks and debugger keys
    "ms-settings/shell/open/command",
    "mscfile/shell/open/command",
    "image file execution options",
    "windows nt/currentversion/winlogon",
];

/// Whether a path is a persistence place.
pub fn is_persistence_path(text: &str) -> bool {
    let t = text.to_ascii_lowercase().replace('\\', "/");
    PERSISTENCE_PATHS.iter().any(|p| t.contains(p))
}

/// Whether a path is the process environment's file.
pub fn is_environ_path(text: &str) -> bool {
    text.contains("/proc/") && text.ends_with("/environ")
}

/// Hosts made for receiving data: chat bots and webhooks, request capture, file drops, tunnels.
const CHANNELS: &[&str] = &[
    "api.telegram.org",
    "discord.com/api/webhooks",
    "discordapp.com/api/webhooks",
    "hooks.slack.com",
    "webhook.site",
    "pipedream.net",
    "requestbin",
    "interact.sh",
    "oast.",
    "burpcollaborator",
    "ngrok.io",
    "ngrok-free.app",
    "transfer.sh",
    "pastebin.com/api",
    "file.io",
    "gofile.io",
    "0x0.st",
    "bashupload",
    "temp.sh",
    "anonfiles",
];

/// Whether a URL (or text holding one) goes to a channel made for receiving data, or to a
/// public IPv4 address.
pub fn is_exfil_channel(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    CHANNELS.iter().any(|c| t.contains(c)) || public_ip_url(&t)
}

/// `http(s)://a.b.c.d` with a public address.
fn public_ip_url(t: &str) -> bool {
    t.match_indices("://").any(|(i, _)| {
        let host: String = t[i + 3..]
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        let octets: Vec<u8> = host.split('.').filter_map(|o| o.parse().ok()).collect();
        octets.len() == 4
            && host.split('.').count() == 4
            && !matches!(
                octets[..],
                [127, ..] | [10, ..] | [0, ..] | [192, 168, ..] | [169, 254, ..]
            )
            && !(octets[0] == 172 && (16..32).contains(&octets[1]))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_names() {
        assert_eq!(canonical("builtins.exec"), "exec");
        assert_eq!(canonical("__builtins__.__dict__.eval"), "eval");
        assert_eq!(canonical("globals().__builtins__.exec"), "exec");
        assert_eq!(canonical("requests.Session().get"), "requests.Session.get");
        assert_eq!(canonical("builtins"), "builtins");
    }

    #[test]
    fn sources_and_sinks() {
        assert_eq!(source_of_call("requests.get"), Some(Source::Network));
        assert_eq!(source_of_call("socket.gethostname"), Some(Source::Host));
        assert_eq!(source_of_call("base64.b64decode"), Some(Source::Decoded));
        assert_eq!(source_of_call("base64.b64encode"), None);
        assert_eq!(source_of_call("re.compile"), None);
        assert_eq!(sink_of_call("exec"), Some(Sink::Exec));
        assert_eq!(sink_of_call("re.compile"), None);
        assert_eq!(sink_of_call("ast.literal_eval"), None);
        assert_eq!(sink_of_call("subprocess.Popen"), Some(Sink::Process));
        assert_eq!(sink_of_call("requests.post"), Some(Sink::Send));
        // URL and path arithmetic and exceptions of network modules send nothing
        for local in [
            "urllib.request.url2pathname",
            "urllib.request.pathname2url",
            "urllib.request.getproxies",
            "urllib3.exceptions.ClosedPoolError",
            "requests.exceptions.ConnectionError",
            "httpx.HTTPStatusError",
            "urllib3.exceptions.InsecureRequestWarning",
        ] {
            assert_eq!(sink_of_call(local), None, "{local}");
            assert_eq!(source_of_call(local), None, "{local}");
        }
        assert_eq!(sink_of_call("urllib.request.urlopen"), Some(Sink::Send));
        assert_eq!(
            sink_of_call("http.client.HTTPSConnection.request"),
            Some(Sink::Send)
        );
        assert_eq!(sink_of_call("websocket_autopatch.run"), None);
        assert!(is_credential_path("~/.aws/credentials"));
        assert!(!is_credential_path("~/.config/app.toml"));
        assert!(is_persistence_path("/home/u/.bashrc"));
        assert!(is_persistence_path(
            r"Software\Microsoft\Windows\CurrentVersion\Run"
        ));
    }
}
