// Droppers: download code or a program and run it.

rule drop_pipe_to_shell {
  meta:
    id = "drop-pipe-to-shell"
    severity = "high"
    description = "spawns a shell command that downloads and pipes into a shell or interpreter (curl … | sh)"
    reference = "THREATS.md §3.10 (Axios RAT chain: curl, /tmp/ld.py, nohup python3)"
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
    reference = "THREATS.md §3.6 (C2 polling loader)"
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
    reference = "THREATS.md §3.6, §3.10"
  strings:
    $fetch = /(urlretrieve|urlopen|requests\.get|(curl|wget)\s+-[A-Za-z]*[oO])\s*[(\s][\s\S]{0,600}(os\.chmod\s*\([^\n]{0,120}(0o7|0o5|755|777|S_IEXEC|S_IXUSR)|chmod \+x|\.exe['"])/
    $run = /(os\.chmod\s*\(|chmod \+x|\.exe['"])[\s\S]{0,400}(Popen|os\.system|startfile|subprocess\.run|subprocess\.call)\s*\(/
    $tmp1 = "/tmp/" $tmp2 = "/dev/shm/" $tmp3 = "gettempdir()" $tmp4 = "APPDATA" $tmp5 = "TEMP"
  condition:
    $fetch and $run and any of ($tmp*) and py_spawn
}

rule drop_powershell {
  meta:
    id = "drop-powershell"
    severity = "high"
    description = "runs PowerShell with an encoded command, a download cradle or a hidden window"
    reference = "MITRE T1059.001; Windows droppers on PyPI"
  strings:
    $ps = "powershell" nocase
    $a1 = /-(enc|encodedcommand|ec)\s+[A-Za-z0-9+\/=]{20}/ nocase $a2 = "DownloadString" nocase $a3 = "DownloadFile" nocase
    $a4 = "Invoke-Expression" nocase $a5 = "IEX (" $a6 = "IEX(" $a7 = "Invoke-WebRequest" nocase
    $a8 = "-w hidden" nocase $a9 = "-windowstyle hidden" nocase
  condition:
    $ps and any of ($a*) and py_spawn
}

rule drop_fetch_write_run {
  meta:
    id = "drop-fetch-write-run"
    severity = "high"
    description = "downloads a file into a temporary or per-user folder, writes it out and runs it"
    reference = "pypi_malregistry: temp-folder droppers (requests.get → open(path, 'wb') → subprocess.run([path]))"
  strings:
    $chain = /(requests\.get|urlopen|urlretrieve)\s*\([\s\S]{0,800}open\s*\([^\n]{0,160}['"]wb['"][\s\S]{0,600}(subprocess\.(run|call|Popen|check_call)\s*\(|os\.startfile\s*\(|os\.system\s*\()/
    $tmp1 = "gettempdir()" $tmp2 = "TEMP" $tmp3 = "APPDATA" $tmp4 = "/tmp/" $tmp5 = "mkdtemp("
  condition:
    $chain and any of ($tmp*) and py_http_send
}
