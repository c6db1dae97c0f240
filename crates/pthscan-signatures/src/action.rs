//! What to do about a finding, as data beside each rule: a `fix` (one kind of action, worded
//! for each finding from its facts by the core) and `rotate` (the credential classes the code
//! a rule finds can read, which a responder rotates).

use serde::{Deserialize, Serialize};

/// The kind of action a rule's finding calls for. The words are the `fix` values of the
/// signature files (`fix = "remove"`); the core turns one into a line naming the file, its
/// distribution and version, and its environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fix {
    /// Nothing to do: a known-good hook, shown for the start-up surface.
    Keep,
    /// Read the file and decide: keep it if its start-up work is expected, else remove it.
    Review,
    /// The file differs from what its distribution installed: reinstall that release from a
    /// trusted index (an unowned file: remove it).
    Reinstall,
    /// Change a lockfile's pin to a release no record names and regenerate the lock.
    Repin,
    /// Disable and delete the service, timer, cron entry or profile line that starts code.
    Disable,
    /// Capture and stop a running process, then remove what it runs.
    Stop,
    /// The file is malicious: remove it (its distribution, its cache entry, the artifact).
    Remove,
    /// The distribution is malicious: uninstall it, pin away from the bad releases and rebuild
    /// the environment from known-good sources.
    Uninstall,
}

impl Fix {
    /// Every kind, least urgent first.
    pub const ALL: [Fix; 8] = [
        Fix::Keep,
        Fix::Review,
        Fix::Reinstall,
        Fix::Repin,
        Fix::Disable,
        Fix::Stop,
        Fix::Remove,
        Fix::Uninstall,
    ];

    /// The word the signature files use.
    pub fn as_str(self) -> &'static str {
        match self {
            Fix::Keep => "keep",
            Fix::Review => "review",
            Fix::Reinstall => "reinstall",
            Fix::Repin => "repin",
            Fix::Disable => "disable",
            Fix::Stop => "stop",
            Fix::Remove => "remove",
            Fix::Uninstall => "uninstall",
        }
    }

    /// The kind a word names.
    pub fn parse(word: &str) -> Option<Fix> {
        Fix::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(word.trim()))
    }

    /// What the action is, in general (what `explain` and SARIF's rule help say; a finding's
    /// own `fix` names its file and distribution).
    pub fn summary(self) -> &'static str {
        match self {
            Fix::Keep => {
                "nothing: a known-good hook, listed so that the whole start-up surface is seen"
            }
            Fix::Review => {
                "read the file: keep it only if you know why it runs at start-up; otherwise remove it (and reinstall its distribution from a trusted index)"
            }
            Fix::Reinstall => {
                "reinstall the owning distribution's release from a trusted index (`pip install --force-reinstall --no-deps --no-cache-dir NAME==VERSION`); a file no distribution owns: remove it"
            }
            Fix::Repin => {
                "pin a release no record names in the lockfile, regenerate the lock, and check whether an environment or image already installed the bad one"
            }
            Fix::Disable => {
                "disable and delete the unit, timer, cron entry or profile line, then remove the code it starts"
            }
            Fix::Stop => {
                "capture the process (`/proc/PID`: cmdline, exe, maps, environ), stop it, and remove what it runs"
            }
            Fix::Remove => {
                "remove the file (a start-up file first: every Python of its environment runs it, pip's included); when a distribution ships it, uninstall that distribution and reinstall a release no advisory names from a trusted index; in a package cache, delete the entry; in an artifact, do not install it"
            }
            Fix::Uninstall => {
                "uninstall the distribution, pin away from the bad releases, and rebuild the environment from known-good sources"
            }
        }
    }
}

impl std::fmt::Display for Fix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The credential classes a `rotate` field may name, with what a responder rotates for each.
pub const ROTATE_CLASSES: &[(&str, &str)] = &[
    ("ssh", "SSH keys"),
    ("cloud", "cloud credentials (AWS, GCP, Azure)"),
    ("kubernetes", "Kubernetes tokens and kubeconfig"),
    ("docker", "registry logins (~/.docker/config.json)"),
    ("git", "git credentials and forge tokens"),
    (
        "tokens",
        "API tokens and .env secrets (PyPI, npm, Vault, databases)",
    ),
    (
        "environment",
        "secrets in the environment of the processes that ran it",
    ),
    ("ci", "CI/CD secrets"),
    ("browser", "browser passwords, cookies and sessions"),
    ("wallets", "crypto wallets (move the funds)"),
    ("chat", "messenger sessions and bot tokens"),
    ("system", "system passwords and host keys"),
];

/// Texts that name a credential store, and the class each belongs to: what a signal's matched
/// literals say the code reads.
const STORES: &[(&str, &str)] = &[
    (".ssh", "ssh"),
    ("id_rsa", "ssh"),
    ("id_ed25519", "ssh"),
    ("id_ecdsa", "ssh"),
    (".aws", "cloud"),
    ("AWS_", "cloud"),
    ("169.254.169.254", "cloud"),
    ("application_default_credentials", "cloud"),
    ("gcloud", "cloud"),
    (".azure", "cloud"),
    (".kube", "kubernetes"),
    ("kubernetes.io", "kubernetes"),
    ("serviceaccount", "kubernetes"),
    (".docker", "docker"),
    (".git-credentials", "git"),
    (".npmrc", "tokens"),
    (".pypirc", "tokens"),
    (".vault-token", "tokens"),
    (".pgpass", "tokens"),
    (".my.cnf", "tokens"),
    ("terraform.tfvars", "tokens"),
    ("_history", "tokens"),
    (".env", "tokens"),
    ("wallet", "wallets"),
    ("/etc/shadow", "system"),
    ("Login Data", "browser"),
    ("environ", "environment"),
];

/// The credential classes whose stores `text` names (a signal's matched literals).
pub fn classes_named(text: &str) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for (needle, class) in STORES {
        if text.contains(needle) && !out.contains(class) {
            out.push(class);
        }
    }
    out
}

/// What a responder rotates for `class`.
pub fn rotate_label(class: &str) -> Option<&'static str> {
    ROTATE_CLASSES
        .iter()
        .find(|(c, _)| *c == class)
        .map(|(_, label)| *label)
}

/// A `rotate` list written as text (`"ssh, cloud"`, as YARA metadata holds it): the classes,
/// or the first word that names none.
pub fn parse_rotate(text: &str) -> Result<Vec<String>, String> {
    text.split([',', ' '])
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .map(|w| match rotate_label(w) {
            Some(_) => Ok(w.to_owned()),
            None => Err(w.to_owned()),
        })
        .collect()
}

/// Checks a `rotate` list read from TOML: every word a known class.
pub fn check_rotate(id: &str, rotate: &[String]) -> Result<(), crate::SignatureError> {
    match rotate.iter().find(|c| rotate_label(c).is_none()) {
        Some(bad) => Err(crate::SignatureError::Invalid {
            id: id.to_owned(),
            reason: format!(
                "`rotate` names `{bad}`, not one of {}",
                ROTATE_CLASSES
                    .iter()
                    .map(|(c, _)| *c)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip() {
        for f in Fix::ALL {
            assert_eq!(Fix::parse(f.as_str()), Some(f));
        }
        assert_eq!(Fix::parse("nuke"), None);
        assert_eq!(
            parse_rotate("ssh, cloud"),
            Ok(vec!["ssh".into(), "cloud".into()])
        );
        assert_eq!(parse_rotate("ssh, passwords"), Err("passwords".into()));
    }
}
