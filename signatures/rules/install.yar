// Install time: an sdist's setup.py runs on `pip install` and on every build, with the
// installing user's rights — the favourite place of dependency-confusion beacons and droppers.
// These rules hold only for files pthscan judges as install-time code (pthscan_install_hook).
// Honest setup.py files read their own files, exec a version file, and spawn compilers or git;
// they do not reach the network together with host details, nor run shell download commands.

rule install_beacon {
  meta:
    id = "install-beacon"
    severity = "high"
    description = "setup.py reaches the network at install time together with host, user or environment details, a spawned process or executed code: a dependency-confusion beacon, exfiltration or download at pip install"
    reference = "Dependency-confusion campaigns on PyPI (Birsan 2021 and copycats); https://github.com/lxyeternal/pypi_malregistry install-time samples"
    fix = "remove"
  condition:
    pthscan_install_hook and (py_net_raw or (py_http_send and (host_recon or py_env_read or py_spawn or py_exec or py_file_sweep)))
}

rule install_network {
  meta:
    id = "install-network"
    severity = "medium"
    description = "setup.py reaches the network at install time (a download during the build at best)"
    reference = "docs/threats/signals.md#shapes-of-malicious-start-up-code; PEP 517/518 (builds are meant to need no network beyond declared requirements)"
    fix = "review"
  condition:
    pthscan_install_hook and (py_http_send or py_net_raw)
}

rule install_shell_command {
  meta:
    id = "install-shell-command"
    severity = "high"
    description = "setup.py spawns a shell, PowerShell, a downloader or a Windows program at install time"
    reference = "https://github.com/lxyeternal/pypi_malregistry install-time droppers (Popen('powershell -EncodedCommand …'), os.system('curl … | sh'))"
    fix = "remove"
  condition:
    pthscan_install_hook and py_spawn and shell_words
}

rule install_exec_decoded {
  meta:
    id = "install-exec-decoded"
    severity = "high"
    description = "setup.py executes code it decodes, decrypts or decompresses at install time"
    reference = "https://github.com/lxyeternal/pypi_malregistry install-time loaders (exec(Fernet(key).decrypt(blob)) in a cmdclass)"
    fix = "remove"
  condition:
    pthscan_install_hook and py_exec and py_decode
}
