// Persistence: code that makes itself start again later — systemd user units, cron, shell
// start-up files, ~/.config/<x>/<x>.py, autostart entries, Windows Run keys, launch agents.

rule persist_systemd_unit {
  meta:
    id = "persist-systemd-unit"
    severity = "high"
    description = "writes a systemd unit (user or system) that runs a program and enables or starts it"
    reference = "docs/threats/litellm.md#persistence (sysmon.service, pgmon.service, internal-monitor.service)"
    fix = "remove"
  strings:
    $dir1 = ".config/systemd/user" $dir2 = "/etc/systemd/system" $exec = "ExecStart="
    $ctl = /systemctl\s+(--user\s+)?(daemon-reload|enable|start|restart)/ $ctl2 = /['"]systemctl['"]\s*,\s*(['"]--user['"]\s*,\s*)?['"](daemon-reload|enable|start)/
  condition:
    any of ($dir*) and $exec and ($ctl or $ctl2) and (py_spawn or py_http_send)
}

rule persist_cron {
  meta:
    id = "persist-cron"
    severity = "high"
    description = "adds a cron entry that runs a script from a hidden or temporary place, a download or inline Python"
    reference = "docs/threats/litellm.md#persistence"
    fix = "remove"
  strings:
    $cron1 = "crontab" $cron2 = "/etc/cron.d/" $cron3 = "/var/spool/cron"
    $line = /(@reboot|\* \* \* \* \*|\*\/[0-9]{1,2} \* \* \* \*)[^\n]{0,200}(curl |wget |python[0-9.]*\s+-c|nohup|base64|\/tmp\/|\/dev\/shm|\.config\/)/
  condition:
    any of ($cron*) and $line
}

rule persist_shell_rc {
  meta:
    id = "persist-shell-rc"
    severity = "high"
    description = "appends a download, an inline interpreter, a background job or a command alias to a shell start-up file"
    reference = "docs/threats/litellm.md#persistence; MITRE T1546.004"
    fix = "remove"
  strings:
    $append1 = /(\.bashrc|\.zshrc|\.bash_profile|\.profile|\/etc\/profile\.d\/[\w.\-]{1,40})['"][^\n]{0,60},\s*['"]a['"]/
    $append2 = />>\s*(~|\$HOME|\$\{HOME\})\/\.(bashrc|zshrc|bash_profile|profile)/
    $p1 = "curl " $p2 = "wget " $p3 = "python -c" $p4 = "nohup" $p5 = "alias sudo" $p6 = "base64 -d"
    $p7 = "PYTHONSTARTUP" $p8 = "LD_PRELOAD" $p9 = "/dev/shm" $p10 = "| sh" $p11 = "| bash" $p12 = "| python"
    $p13 = "python3 -c"
  condition:
    any of ($append*) and any of ($p*) and (py_spawn or pthscan_code)
}

rule persist_config_script {
  meta:
    id = "persist-config-script"
    severity = "high"
    description = "drops a Python script under ~/.config/<name>/ or a hidden directory and arranges for it to run (service, cron, nohup, background process)"
    reference = "docs/threats/litellm.md#persistence (~/.config/sysmon/sysmon.py, ~/.local/share/pgmon/service.py)"
    fix = "remove"
  strings:
    $path = /(\.config|\.local\/share|\/var\/lib)\/[A-Za-z0-9_.\-]{2,32}\/[A-Za-z0-9_.\-]{2,32}\.py/
    $write1 = /open\s*\([^\n]{0,160},\s*['"]wb?['"]/ $write2 = "write_text(" $write3 = "write_bytes("
    $run1 = "ExecStart=" $run2 = "crontab" $run3 = "nohup" $run4 = "start_new_session" $run5 = "setsid"
  condition:
    $path and any of ($write*) and any of ($run*)
}

rule persist_windows_autorun {
  meta:
    id = "persist-windows-autorun"
    severity = "high"
    description = "registers a program in a Windows Run key or Startup folder"
    reference = "MITRE https://attack.mitre.org/techniques/T1547/001/; common in PyPI stealers"
    fix = "remove"
  strings:
    $set1 = /CurrentVersion\\{1,2}Run[\s\S]{0,400}SetValueEx/ nocase
    $set2 = /reg(\.exe)? add [^\n]{0,40}CurrentVersion\\{1,2}Run/ nocase
    $startup = /Start Menu\\{1,2}Programs\\{1,2}Startup/ nocase
    $startup2 = /['"]Start Menu['"]\s*,\s*['"]Programs['"]\s*,\s*['"]Startup['"]/
    $copy1 = "shutil.copy" $copy2 = /open\s*\([^\n]{0,160},\s*['"]wb?['"]/
  condition:
    any of ($set*) or (($startup or $startup2) and any of ($copy*))
}

rule persist_launch_agent {
  meta:
    id = "persist-launch-agent"
    severity = "high"
    description = "writes a macOS LaunchAgent or LaunchDaemon and loads it"
    reference = "MITRE https://attack.mitre.org/techniques/T1543/001/"
    fix = "remove"
  strings:
    $dir = /Library\/Launch(Agents|Daemons)/ $args = "ProgramArguments" $load = /launchctl\s+(load|bootstrap)/
  condition:
    $dir and $args and $load
}

rule persist_xdg_autostart {
  meta:
    id = "persist-xdg-autostart"
    severity = "high"
    description = "writes a desktop autostart entry that runs a program at login"
    reference = "MITRE https://attack.mitre.org/techniques/T1547/013/"
    fix = "remove"
  strings:
    $dir = ".config/autostart" $exec = "Exec=" $entry = "[Desktop Entry]"
  condition:
    $dir and $exec and $entry
}

rule persist_uac_bypass {
  meta:
    id = "persist-uac-bypass"
    severity = "high"
    description = "abuses an auto-elevating Windows program (fodhelper, computerdefaults, eventvwr, sdclt) or its ms-settings handler to gain administrator rights without a prompt"
    reference = "MITRE https://attack.mitre.org/techniques/T1548/002/"
    fix = "remove"
  strings:
    $p1 = "fodhelper" nocase $p2 = "computerdefaults" nocase $p3 = "eventvwr" nocase $p4 = "sdclt" nocase
    $k = /ms-settings\\{1,2}shell\\{1,2}open\\{1,2}command/ nocase
  condition:
    $k or (any of ($p*) and py_spawn)
}
