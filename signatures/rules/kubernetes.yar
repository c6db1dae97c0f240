// Kubernetes abuse: code that creates privileged, host-namespace workloads, plants itself in
// kube-system, or lists every secret of the cluster. The kubernetes client library defines all
// of these calls; what it never does is combine them with a host takeover or a stolen token.

private rule k8s_creates_workload {
  strings:
    $a1 = "create_namespaced_pod(" $a2 = "create_namespaced_daemon_set(" $a3 = "create_namespaced_deployment("
    $a4 = /\/api\/v1\/namespaces\/[^\n'"]{0,80}\/pods/ $a5 = /\/apis\/apps\/v1\/namespaces\/[^\n'"]{0,80}\/daemonsets/
    $a6 = /kubectl['"]?\s*,?\s*['"]?\s*(apply|create|run)/
  condition:
    any of them
}

private rule k8s_host_access {
  strings:
    $a1 = /['"]?hostPID['"]?\s*[:=]\s*(True|true)/ $a2 = /['"]?hostNetwork['"]?\s*[:=]\s*(True|true)/
    $a3 = /['"]?privileged['"]?\s*[:=]\s*(True|true)/ $a4 = /host_pid\s*=\s*True/ $a5 = /privileged\s*=\s*True/
  condition:
    2 of them
}

rule k8s_privileged_pod {
  meta:
    id = "k8s-privileged-pod"
    severity = "high"
    description = "creates a pod or DaemonSet with privileged, hostPID or hostNetwork and mounts the host's root filesystem or enters its namespaces"
    reference = "docs/threats/litellm.md#kubernetes-behaviour (node-setup-* pods; CanisterWorm host-provisioner DaemonSets)"
    fix = "remove"
    rotate = "kubernetes"
  strings:
    $root1 = /['"]?path['"]?\s*:\s*['"]\/['"]/ $root2 = /path\s*=\s*['"]\/['"]/ $root3 = "chroot" $root4 = "nsenter"
    $root5 = "/mnt/host"
  condition:
    k8s_creates_workload and k8s_host_access and any of ($root*)
}

rule k8s_kube_system_implant {
  meta:
    id = "k8s-kube-system-implant"
    severity = "critical"
    description = "creates a privileged workload in kube-system that reaches into every node (tolerates every taint, host namespaces, host root)"
    reference = "docs/threats/litellm.md#kubernetes-behaviour"
    fix = "remove"
    rotate = "kubernetes"
  strings:
    $ns = "kube-system" $tol1 = /operator['"]?\s*[:=]\s*['"]Exists['"]/ $tol2 = "chroot" $tol3 = "nsenter" $tol4 = "/mnt/host"
  condition:
    $ns and k8s_creates_workload and k8s_host_access and any of ($tol*)
}

rule k8s_list_all_secrets {
  meta:
    id = "k8s-list-all-secrets"
    severity = "high"
    description = "lists the secrets of every namespace with a service-account token read from disk"
    reference = "docs/threats/litellm.md#kubernetes-behaviour (secrets get/list with user agent Python-urllib)"
    fix = "remove"
    rotate = "kubernetes"
  strings:
    $list1 = "/api/v1/secrets" $list2 = "list_secret_for_all_namespaces(" $token = "serviceaccount/token"
    $auth = "Bearer"
  condition:
    any of ($list*) and $token and $auth
}
