//! `privileged-port` (documented in the parent module's header).

use parse_dockerfile::Instruction;

use super::{body, join_and};
use crate::catalog::Entry;
use crate::diagnostic::Diagnostic;
use crate::rules::Rule;
use crate::rules::dev_variant::stage_label;
use crate::stages::{StageModel, View};

pub(super) fn privileged_ports(
    model: &StageModel<'_, '_, '_>,
    index: usize,
    entry: &Entry,
) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    let mut user = None;
    for (_, instruction) in body(model, index) {
        let Instruction::Expose(expose) = instruction else {
            continue;
        };
        let ports: Vec<&str> = expose
            .arguments
            .iter()
            .map(|port| port.value.as_ref())
            .filter(|port| is_privileged(port))
            .collect();
        if ports.is_empty() {
            continue;
        }
        let Some(range) = model.file.instruction_range(instruction) else {
            continue;
        };
        let user: &Option<String> =
            user.get_or_insert_with(|| model.config(index, View::Hardened, None).user);
        match user.as_deref().map(str::trim) {
            // A variable or an empty USER: nothing the catalog could tell.
            Some(user) if user.is_empty() || user.contains('$') => {}
            Some(user) if crate::stages::is_root_user(user) => {}
            Some(user) => {
                let (message, suggestion) = privileged_message(model, index, &ports, user);
                diagnostics.push(
                    Diagnostic::report(Rule::PrivilegedPort, range, message).suggest(suggestion),
                );
            }
            None => diagnostics.push(
                Diagnostic::report(
                    Rule::MissingFact,
                    range,
                    format!(
                        "stage {} exposes {}, below 1024, but the catalog entry `{}` has no `hardened.user`, so hardport cannot tell whether the replacement runs as root and may bind it",
                        stage_label(model, index),
                        port_list(&ports),
                        entry.name
                    ),
                )
                .suggest(
                    "add `hardened.user` (the `User` of the replacement's OCI image config) to the catalog entry",
                ),
            ),
        }
    }
    diagnostics
}

/// What `privileged-port` says, and what it suggests.
fn privileged_message(
    model: &StageModel<'_, '_, '_>,
    index: usize,
    ports: &[&str],
    user: &str,
) -> (String, String) {
    let moved: Vec<String> = ports.iter().map(|port| unprivileged(port)).collect();
    let moved_refs: Vec<&str> = moved.iter().map(String::as_str).collect();
    let publish: Vec<String> = ports
        .iter()
        .zip(&moved)
        .map(|(port, new)| format!("-p {}:{new}", strip_protocol(port)))
        .collect();
    let (first_port, first_new) = (
        strip_protocol(ports.first().copied().unwrap_or_default()),
        strip_protocol(moved_refs.first().copied().unwrap_or_default()),
    );
    let (target, that) = match ports.len() {
        1 => ("a port", "that"),
        _ => ("ports", "those"),
    };
    (
        format!(
            "stage {} exposes {}, but on the replacement it runs as user `{user}`, not root, and a non-root process cannot bind ports below 1024 unless the runtime allows it (CAP_NET_BIND_SERVICE or net.ipv4.ip_unprivileged_port_start)",
            stage_label(model, index),
            port_list(ports),
        ),
        format!(
            "make the application listen on {target} ≥ 1024 (e.g. {}), EXPOSE {that}, and map it in the service / container spec (`docker run {}`, or a Kubernetes Service with `port: {first_port}` and `targetPort: {first_new}`)",
            join_and(&moved_refs),
            publish.join(" "),
        ),
    )
}

/// `80`, `80/tcp`, `80-90`, `80-90/udp` with a first port in 1..1024.
fn is_privileged(port: &str) -> bool {
    if port.contains('$') {
        return false;
    }
    let number = strip_protocol(port);
    let first = number.split('-').next().unwrap_or_default();
    first
        .parse::<u32>()
        .is_ok_and(|first| (1..1024).contains(&first))
}

fn strip_protocol(port: &str) -> &str {
    port.split('/').next().unwrap_or_default()
}

/// The port (or range) moved above 1023 by adding 8000, keeping the protocol: `80` → `8080`,
/// `443/udp` → `8443/udp`, `80-90` → `8080-8090`.
fn unprivileged(port: &str) -> String {
    let (numbers, protocol) = match port.split_once('/') {
        Some((numbers, protocol)) => (numbers, Some(protocol)),
        None => (port, None),
    };
    let moved: Vec<String> = numbers
        .split('-')
        .map(|number| match number.parse::<u32>() {
            Ok(number) => (number + 8000).to_string(),
            Err(_) => number.to_owned(),
        })
        .collect();
    let moved = moved.join("-");
    match protocol {
        Some(protocol) => format!("{moved}/{protocol}"),
        None => moved,
    }
}

fn port_list(ports: &[&str]) -> String {
    match ports.len() {
        1 => format!("port {}", ports.first().copied().unwrap_or_default()),
        _ => format!("ports {}", join_and(ports)),
    }
}
