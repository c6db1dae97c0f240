// The March 2026 TeamPCP campaign (LiteLLM 1.82.7/1.82.8, Telnyx 4.87.1/4.87.2, Trivy, KICS):
// its names and its shapes. Names come from docs/threats/litellm.md; shapes are written so a renamed
// copy still matches.

rule teampcp_pth_launcher {
  meta:
    id = "teampcp-pth-launcher"
    severity = "critical"
    description = "the litellm_init.pth launcher shape: a new interpreter (sys.executable -c) that base64-decodes and executes a payload, with its output silenced"
    reference = "docs/threats/litellm.md#execution-and-payload-layering (the .pth line); malcontent MAL_LiteLLM_SupplyChain_Mar26"
    fix = "remove"
    rotate = "ssh, cloud, kubernetes, docker, git, tokens, ci, wallets"
  strings:
    $popen = "Popen(" $exe = "sys.executable" $dec = /exec\s*\(\s*(base64\.)?b64decode\s*\(/ $null = "DEVNULL"
  condition:
    $popen and $exe and $dec and $null
}

rule teampcp_markers {
  meta:
    id = "teampcp-markers"
    severity = "critical"
    scope = "any-file"
    description = "two or more names from the TeamPCP payloads (B64_SCRIPT, PERSIST_B64, the RSA-4096 key prefix, tpcp.tar.gz, session.key.enc, payload.enc, /tmp/pglog, /tmp/.pg_state, sysmon.py, System Telemetry Service)"
    reference = "docs/threats/litellm.md#execution-and-payload-layering, docs/threats/litellm.md#published-detection-rules (SigmaHQ and Actioner strings)"
    fix = "remove"
    rotate = "ssh, cloud, kubernetes, docker, git, tokens, ci, wallets"
  strings:
    $a1 = "B64_SCRIPT" $a2 = "PERSIST_B64" $a3 = "MIICIjANBgkqhkiG9w0BAQEFAAOCAQ" $a4 = "tpcp.tar.gz"
    $a5 = "session.key.enc" $a6 = "payload.enc" $a7 = "/tmp/pglog" $a8 = "/tmp/.pg_state" $a9 = "sysmon.py"
    $a10 = "System Telemetry Service" $a11 = "kI2NF9TQ1JJUFQgPSAiYV" $a12 = "aW1wb3J0IHN1YnByb2Nlc3MKaW1wb3J0IHRlbXBmaWxl"
    $a13 = "tpcp-docs" $a14 = "docs-tpcp"
  condition:
    2 of them
}

rule teampcp_encrypted_exfil {
  meta:
    id = "teampcp-encrypted-exfil"
    severity = "critical"
    description = "the TeamPCP exfiltration bundle: a random session key from openssl, AES-256-CBC encryption, the key wrapped with an RSA public key, then an upload"
    reference = "docs/threats/litellm.md#encryption-and-exfiltration"
    fix = "remove"
    rotate = "ssh, cloud, kubernetes, docker, git, tokens, ci, wallets"
  strings:
    $rand = "openssl rand" $rand2 = /['"]openssl['"]\s*,\s*['"]rand['"]/
    $enc = "aes-256-cbc" $wrap1 = "pkeyutl" $wrap2 = "rsautl" $wrap3 = "OAEP"
  condition:
    any of ($rand*) and $enc and any of ($wrap*) and (py_http_send or py_spawn)
}

rule teampcp_sysmon_persistence {
  meta:
    id = "teampcp-sysmon-persistence"
    severity = "critical"
    description = "installs the TeamPCP monitor persistence: sysmon/pgmon/audiomon scripts run by a restart-forever systemd unit"
    reference = "docs/threats/litellm.md#persistence"
    fix = "remove"
    rotate = "ssh, cloud, kubernetes, docker, git, tokens, ci, wallets"
  strings:
    $n1 = ".config/sysmon" $n2 = "sysmon.service" $n3 = "pgmon" $n4 = "audiomon" $n5 = "internal-monitor.service"
    $n6 = "svc_internal/runner.py"
    $u1 = "StartLimitIntervalSec=0" $u2 = "ExecStart=" $u3 = "systemctl"
  condition:
    any of ($n*) and any of ($u*)
}

rule teampcp_node_setup_pod {
  meta:
    id = "teampcp-node-setup-pod"
    severity = "critical"
    description = "the TeamPCP node takeover: node-setup-* or host-provisioner-* workloads in kube-system with alpine and host access"
    reference = "docs/threats/litellm.md#kubernetes-behaviour"
    fix = "remove"
    rotate = "kubernetes, ssh, cloud, docker, git, tokens, ci, wallets"
  strings:
    $n1 = "node-setup-" $n2 = "host-provisioner-" $ns = "kube-system" $img = "alpine:latest"
    $h1 = "hostPID" $h2 = "privileged" $h3 = "kamikaze"
  condition:
    any of ($n*) and $ns and ($img or any of ($h*))
}

rule teampcp_wav_stager {
  meta:
    id = "teampcp-wav-stager"
    severity = "critical"
    description = "the Telnyx 4.87.x stager: a payload hidden in WAV audio frames, decoded and run"
    reference = "docs/threats/litellm.md#related-campaigns (ringtone.wav, hangup.wav)"
    fix = "remove"
    rotate = "ssh, cloud, kubernetes, docker, git, tokens, ci, wallets"
  strings:
    $w1 = "ringtone.wav" $w2 = "hangup.wav" $r1 = "wave.open(" $r2 = "readframes("
  condition:
    any of ($w*) and any of ($r*) and (py_exec or py_spawn)
}
