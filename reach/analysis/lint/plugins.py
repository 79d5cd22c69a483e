"""Whether the network plugin enforces policies: plugin-no-enforcement, plugin-unknown."""

from __future__ import annotations

from collections.abc import Iterator

from reach.analysis.lint.facts import Facts, calico
from reach.analysis.lint.finding import Check, Finding
from reach.model import (
    Location,
)

ENFORCING_PLUGINS: tuple[str, ...] = (
    "calico",
    "cilium",
    "weave-net",
    "antrea",
    "kube-router",
    "canal",
    "kube-ovn",
    "ovnkube",
    "azure-npm",
    "aws-network-policy-agent",
    "openshift-sdn",
    "anetd",
)


NON_ENFORCING_PLUGINS: tuple[str, ...] = ("flannel", "kindnet")


def _plugin_findings(facts: Facts) -> Iterator[Finding]:
    cluster = facts.net.cluster
    if not cluster.policies:
        return
    seen: dict[str, Location] = {}
    for pod in cluster.pods:
        words = [pod.name, pod.owner_name, *pod.labels.values()]
        for word in words:
            low = word.lower()
            for plugin in ENFORCING_PLUGINS + NON_ENFORCING_PLUGINS:
                if plugin in low and plugin not in seen:
                    seen[plugin] = pod.location
    for workload in cluster.workloads:
        low = workload.name.lower()
        for plugin in ENFORCING_PLUGINS + NON_ENFORCING_PLUGINS:
            if plugin in low and plugin not in seen:
                seen[plugin] = workload.location
    # Calico's own policy kinds are only served where Calico is installed
    found = next((p for p in cluster.policies if calico(p)), None)
    if found is not None and "calico" not in seen:
        seen["calico"] = found.location
    enforcing = [p for p in ENFORCING_PLUGINS if p in seen]
    if enforcing:
        return
    count = len(cluster.policies)
    if "flannel" in seen:
        yield Finding(
            "error",
            "plugin-no-enforcement",
            f"the network plugin is flannel alone, which does not enforce NetworkPolicy: "
            f"the {count} policies are accepted without error and do nothing",
            seen["flannel"],
            "install a plugin that enforces policies (Calico, Cilium, ...; canal = "
            "flannel + Calico policy)",
            "flannel",
        )
    elif "kindnet" in seen:
        yield Finding(
            "warning",
            "plugin-no-enforcement",
            f"the network plugin is kindnet, which enforced no NetworkPolicy before kind "
            f"v0.24: the {count} policies may do nothing",
            seen["kindnet"],
            "use kind v0.24 or later, or install Calico or Cilium in the kind cluster",
            "kindnet",
        )
    else:
        yield Finding(
            "info",
            "plugin-unknown",
            "the network plugin is not in the input (no calico, cilium, flannel, ... pods): "
            "policies only work if it enforces them",
            None,
            "add the kube-system pods or daemonsets to the input to have it checked",
            "",
        )


CHECKS = (
    Check(_plugin_findings, {
        "plugin-no-enforcement": ("error", "the network plugin does not enforce NetworkPolicy"),
        "plugin-unknown": ("info", "the network plugin cannot be seen in the input"),
    }),
)
