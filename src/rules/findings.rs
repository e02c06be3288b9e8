//! `privileged-port`, `package-manager`, `entrypoint-feature` and `onbuild`: what a migration
//! cannot fix by editing the file, said once, at the instruction that causes it.
//!
//! ## What it does
//! For every stage whose filesystem comes from a catalog image (its lineage is being migrated or
//! already is the hardened replacement); stages on `scratch` or an unknown image get nothing:
//!
//! - `privileged-port`: `EXPOSE` of a port below 1024 (`80`, `80/tcp`, `443/udp`, `80-90`; ports
//!   written with variables are skipped) in a stage a container can run from, when the stage's
//!   effective user on the replacement is known and not root. When that user is unknown, a
//!   `missing-fact` names `hardened.user`.
//! - `package-manager`: a `RUN` that calls `apt-get`, `apt`, `apk`, `yum`, `dnf`, `microdnf`,
//!   `zypper` or `tdnf` as a command (first word, after `&&`, `||`, `;`, `|`, `sudo`, `env`,
//!   variable assignments; never inside quotes or as part of another word; heredoc scripts
//!   included) while the replacement's `-dev` variant has another package manager: names both
//!   and the equivalent commands. When the catalog does not say which package manager the
//!   replacement has: one warning per stage, asking for `hardened.package_manager`.
//! - `entrypoint-feature` (stages being migrated only): the Dockerfile relies on what the public
//!   image's entrypoint script does at start — files under `/docker-entrypoint-initdb.d/`
//!   (postgres, mysql, mariadb, mongo), `/docker-entrypoint.d/` or `/etc/nginx/templates/`
//!   (nginx), or `ENV` variables the script reads ([`SCRIPT_VARIABLES`]) — and the replacement
//!   does not run that script (another or unknown entrypoint, or no shell).
//! - `onbuild`: every `ONBUILD`: its trigger runs later, in images built `FROM` this one, which
//!   now start from the replacement.
//!
//! ## Why
//! A non-root process cannot bind a privileged port unless the runtime allows it; `apt-get` does
//! not exist on an apk-based image; the replacement's exec-form entrypoint does not run the
//! public image's init scripts, so a database starts without its schema or password. None of
//! these has a safe textual fix: the application, the deployment or the catalog must change.
//!
//! ## Example
//! ```dockerfile
//! FROM postgres:16                                   # → reg.mini.dev/postgres:16
//! COPY init.sql /docker-entrypoint-initdb.d/         # entrypoint-feature: will not run
//! ENV POSTGRES_DB=app                                # entrypoint-feature: may be ignored
//! EXPOSE 80                                          # privileged-port (non-root user)
//! ```
//!
//! ## Fix safety
//! Reports only; never edits. `entrypoint-feature` compares the public image with the
//! replacement, so it speaks only while the base is being migrated; the others describe the
//! final state and speak for migrated files too.

use std::ops::Range;

use parse_dockerfile::{Command, Instruction, JsonOrStringArray, RunInstruction};

use crate::catalog::Entry;
use crate::diagnostic::Diagnostic;
use crate::dockerfile::Dockerfile;
use crate::line_index::LineIndex;
use crate::rules::Rule;
use crate::rules::dev_variant::stage_label;
use crate::shell::{self, SimpleCommand, Word};
use crate::stages::{ConfigSweep, Lineage, StageModel, View, join_path};

pub fn check(model: &StageModel<'_, '_, '_>) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    for stage in &model.stages {
        let index = stage.index;
        let lineage = model.lineage(index);
        let Some(entry) = lineage.entry() else {
            continue;
        };
        if model.is_runnable(index) {
            diagnostics.extend(privileged_ports(model, index, entry));
        }
        diagnostics.extend(package_managers(model, index, entry));
        if matches!(lineage, Lineage::Migrating(_)) {
            diagnostics.extend(entrypoint_features(model, index, entry));
        }
        diagnostics.extend(onbuild_triggers(model, index, entry));
    }
    diagnostics
}

/// The instructions after a stage's `FROM`, with their index in the file.
fn body<'f, 'a>(
    model: &StageModel<'f, 'a, '_>,
    index: usize,
) -> impl Iterator<Item = (usize, &'f Instruction<'a>)> {
    let instructions: &'f [Instruction<'a>] = model.file.instructions();
    let range = model.stages[index].body();
    let start = range.start;
    instructions
        .get(range)
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(move |(offset, instruction)| (start + offset, instruction))
}

// ---------------------------------------------------------------------------------------------
// privileged-port
// ---------------------------------------------------------------------------------------------

fn privileged_ports(
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

// ---------------------------------------------------------------------------------------------
// package-manager
// ---------------------------------------------------------------------------------------------

/// The package manager commands hardport recognises.
const MANAGERS: [&str; 8] = [
    "apt-get", "apt", "apk", "yum", "dnf", "microdnf", "zypper", "tdnf",
];

/// One call of a package manager: the command as written (its basename) and its subcommand.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Call {
    command: &'static str,
    verb: Option<String>,
}

impl Call {
    fn display(&self) -> String {
        match &self.verb {
            Some(verb) => format!("`{} {verb}`", self.command),
            None => format!("`{}`", self.command),
        }
    }
}

fn package_managers(
    model: &StageModel<'_, '_, '_>,
    index: usize,
    entry: &Entry,
) -> Vec<Diagnostic> {
    let mut runs: Vec<(Range<usize>, Vec<Call>)> = Vec::new();
    for (_, instruction) in body(model, index) {
        let Instruction::Run(run) = instruction else {
            continue;
        };
        let calls = package_manager_calls(model.file, run);
        if calls.is_empty() {
            continue;
        }
        if let Some(range) = model.file.instruction_range(instruction) {
            runs.push((range, calls));
        }
    }
    if runs.is_empty() {
        return Vec::new();
    }
    let available = entry
        .hardened
        .package_manager
        .as_deref()
        .map(str::trim)
        .filter(|manager| !manager.is_empty());
    match available {
        Some(available) => runs
            .into_iter()
            .filter_map(|(range, calls)| other_manager(entry, available, range, &calls))
            .collect(),
        None => unknown_manager(model, index, entry, &runs)
            .into_iter()
            .collect(),
    }
}

/// `apt` for `apt-get` and `apt`; every other manager is its own family.
fn family(command: &str) -> String {
    let command = command.trim().to_ascii_lowercase();
    match command.as_str() {
        "apt-get" | "apt" => "apt".to_owned(),
        _ => command,
    }
}

fn other_manager(
    entry: &Entry,
    available: &str,
    range: Range<usize>,
    calls: &[Call],
) -> Option<Diagnostic> {
    let target = family(available);
    let foreign: Vec<&Call> = calls
        .iter()
        .filter(|call| family(call.command) != target)
        .collect();
    if foreign.is_empty() {
        return None;
    }
    let mut commands: Vec<&str> = foreign.iter().map(|call| call.command).collect();
    commands.dedup();
    let calls_text: Vec<String> = foreign.iter().map(|call| call.display()).collect();
    let replacements: Vec<String> = foreign
        .iter()
        .map(|call| {
            let equivalent = call
                .verb
                .as_deref()
                .and_then(|verb| equivalent(&target, call.command, verb))
                .unwrap_or_else(|| format!("its {available} equivalent"));
            format!("{} → {equivalent}", call.display())
        })
        .collect();
    let commands: Vec<String> = commands
        .iter()
        .map(|command| format!("`{command}`"))
        .collect();
    Some(
        Diagnostic::report(
            Rule::PackageManager,
            range,
            format!(
                "RUN calls {}, but the replacement's -dev variant ({}) has {available}, not {}",
                calls_text.join(", "),
                entry.replacement,
                join_or(&commands),
            ),
        )
        .suggest(format!(
            "{}; package names can differ between distributions, so check each one",
            replacements.join(", ")
        )),
    )
}

fn unknown_manager(
    model: &StageModel<'_, '_, '_>,
    index: usize,
    entry: &Entry,
    runs: &[(Range<usize>, Vec<Call>)],
) -> Option<Diagnostic> {
    let first = runs.first()?;
    let mut commands: Vec<String> = Vec::new();
    for (_, calls) in runs {
        for call in calls {
            let command = format!("`{}`", call.command);
            if !commands.contains(&command) {
                commands.push(command);
            }
        }
    }
    let lines = LineIndex::new(model.file.text());
    let numbers: Vec<String> = runs
        .iter()
        .map(|(range, _)| lines.line(range.start).to_string())
        .collect();
    let where_ = match numbers.len() {
        1 => format!("line {}", numbers.join("")),
        _ => format!("lines {}", join_and(&numbers)),
    };
    Some(
        Diagnostic::report(
            Rule::PackageManager,
            first.0.clone(),
            format!(
                "stage {} calls {} ({where_}), but the catalog entry `{}` does not say which package manager the replacement's -dev variant ({}) has, so these commands may fail there",
                stage_label(model, index),
                join_and(&commands),
                entry.name,
                entry.replacement
            ),
        )
        .suggest(
            "check the image and add `hardened.package_manager` (apk, apt, dnf, …) to the catalog entry",
        ),
    )
}

/// What a package manager subcommand does, so it can be said in another manager's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Install,
    Remove,
    Refresh,
    Upgrade,
    Clean,
}

fn action(command: &str, verb: &str) -> Option<Action> {
    let verb = verb.to_ascii_lowercase();
    let action = match (family(command).as_str(), verb.as_str()) {
        ("apt", "install") => Action::Install,
        ("apt", "remove" | "purge" | "autoremove") => Action::Remove,
        ("apt", "update") => Action::Refresh,
        ("apt", "upgrade" | "dist-upgrade" | "full-upgrade") => Action::Upgrade,
        ("apt", "clean" | "autoclean") => Action::Clean,
        ("apk", "add") => Action::Install,
        ("apk", "del") => Action::Remove,
        ("apk", "update") => Action::Refresh,
        ("apk", "upgrade") => Action::Upgrade,
        ("yum" | "dnf" | "microdnf" | "tdnf", "install") => Action::Install,
        ("yum" | "dnf" | "microdnf" | "tdnf", "remove" | "erase") => Action::Remove,
        ("yum" | "dnf" | "microdnf" | "tdnf", "makecache") => Action::Refresh,
        ("yum" | "dnf" | "microdnf" | "tdnf", "update" | "upgrade") => Action::Upgrade,
        ("yum" | "dnf" | "microdnf" | "tdnf", "clean") => Action::Clean,
        ("zypper", "install" | "in") => Action::Install,
        ("zypper", "remove" | "rm") => Action::Remove,
        ("zypper", "refresh" | "ref") => Action::Refresh,
        ("zypper", "update" | "up" | "dist-upgrade" | "dup") => Action::Upgrade,
        ("zypper", "clean" | "cc") => Action::Clean,
        _ => return None,
    };
    Some(action)
}

/// The command of the `target` family that does what `command verb` does, in backticks (or
/// advice when there is nothing to run).
fn equivalent(target: &str, command: &str, verb: &str) -> Option<String> {
    let action = action(command, verb)?;
    let text = match (target, action) {
        ("apt", Action::Install) => "apt-get install -y --no-install-recommends",
        ("apt", Action::Remove) => "apt-get remove -y",
        ("apt", Action::Refresh) => "apt-get update",
        ("apt", Action::Upgrade) => "apt-get upgrade -y",
        ("apt", Action::Clean) => "apt-get clean",
        ("apk", Action::Install) => "apk add --no-cache",
        ("apk", Action::Remove) => "apk del",
        ("apk", Action::Refresh) => "apk update",
        ("apk", Action::Upgrade) => "apk upgrade --no-cache",
        ("apk", Action::Clean) => {
            return Some("nothing (`apk add --no-cache` keeps no cache)".into());
        }
        ("zypper", Action::Install) => "zypper --non-interactive install",
        ("zypper", Action::Remove) => "zypper --non-interactive remove",
        ("zypper", Action::Refresh) => "zypper refresh",
        ("zypper", Action::Upgrade) => "zypper --non-interactive update",
        ("zypper", Action::Clean) => "zypper clean --all",
        ("yum" | "dnf" | "microdnf" | "tdnf", action) => {
            let verb = match action {
                Action::Install => "install -y",
                Action::Remove => "remove -y",
                Action::Refresh => "makecache",
                Action::Upgrade => "upgrade -y",
                Action::Clean => "clean all",
            };
            return Some(format!("`{target} {verb}`"));
        }
        _ => return None,
    };
    Some(format!("`{text}`"))
}

/// Every package manager call a `RUN` makes, in order, without repeats.
fn package_manager_calls<'a>(file: &Dockerfile<'a>, run: &RunInstruction<'a>) -> Vec<Call> {
    let mut calls: Vec<Call> = Vec::new();
    for command in shell::run::commands(file, run) {
        if let Some(call) = manager_call(&command)
            && !calls.contains(&call)
        {
            calls.push(call);
        }
    }
    calls
}

/// The package manager a simple command runs (past assignments, `sudo`, `env`, …).
fn manager_call(command: &SimpleCommand) -> Option<Call> {
    let name = command.program()?;
    let manager = MANAGERS.iter().find(|manager| **manager == name)?;
    let args = command.argv().get(1..).unwrap_or_default();
    Some(Call {
        command: manager,
        verb: verb(manager, args),
    })
}

/// The subcommand of a package manager call: its first word that is not an option.
fn verb(command: &str, words: &[Word]) -> Option<String> {
    let with_argument: &[&str] = match family(command).as_str() {
        "apt" => &[
            "-o",
            "-c",
            "-t",
            "--option",
            "--config-file",
            "--target-release",
        ],
        "apk" => &[
            "-X",
            "--repository",
            "-p",
            "--root",
            "--arch",
            "--cache-dir",
            "--keys-dir",
            "--repositories-file",
        ],
        "zypper" => &["-R", "--root", "-c", "--config"],
        _ => &[
            "-c",
            "--config",
            "--releasever",
            "--installroot",
            "--setopt",
            "--repo",
            "--enablerepo",
            "--disablerepo",
            "-x",
            "--exclude",
        ],
    };
    let mut rest = words;
    while let Some((first, tail)) = rest.split_first() {
        if first.text.starts_with('-') {
            rest = match with_argument.contains(&first.text.as_str()) {
                true => tail.get(1..).unwrap_or_default(),
                false => tail,
            };
            continue;
        }
        return Some(first.text.clone());
    }
    None
}

// ---------------------------------------------------------------------------------------------
// entrypoint-feature
// ---------------------------------------------------------------------------------------------

/// A directory whose files a public image's entrypoint script acts on at start.
struct ScriptDirectory {
    /// The Docker Hub image whose script it is (matched against the catalog entry's name and
    /// its `docker.io/library/<image>` match).
    image: &'static str,
    dir: &'static str,
    /// What the script does with the files there.
    effect: &'static str,
    /// How to get the same effect without the script.
    instead: &'static str,
}

const INIT_INSTEAD: &str = "run that initialisation from the application (e.g. its migrations), an init container or a Kubernetes Job";
const NGINX_INSTEAD: &str = "do that work at build time (in a -dev build stage whose result you COPY) or in an init container";

/// Directories the public images' entrypoint scripts read (docker-library postgres, mysql,
/// mariadb and mongo `docker-entrypoint.sh`; nginxinc/docker-nginx `docker-entrypoint.sh` and
/// its `20-envsubst-on-templates.sh`).
const SCRIPT_DIRECTORIES: &[ScriptDirectory] = &[
    ScriptDirectory {
        image: "postgres",
        dir: "/docker-entrypoint-initdb.d",
        effect: "runs the *.sh, *.sql and *.sql.gz files there once, when it initialises an empty data directory",
        instead: INIT_INSTEAD,
    },
    ScriptDirectory {
        image: "mysql",
        dir: "/docker-entrypoint-initdb.d",
        effect: "runs the *.sh, *.sql and compressed *.sql files there once, when it initialises an empty data directory",
        instead: INIT_INSTEAD,
    },
    ScriptDirectory {
        image: "mariadb",
        dir: "/docker-entrypoint-initdb.d",
        effect: "runs the *.sh, *.sql and compressed *.sql files there once, when it initialises an empty data directory",
        instead: INIT_INSTEAD,
    },
    ScriptDirectory {
        image: "mongo",
        dir: "/docker-entrypoint-initdb.d",
        effect: "runs the *.sh and *.js files there once, when it initialises an empty database",
        instead: INIT_INSTEAD,
    },
    ScriptDirectory {
        image: "nginx",
        dir: "/docker-entrypoint.d",
        effect: "runs the executable *.sh scripts there at every start, before nginx",
        instead: NGINX_INSTEAD,
    },
    ScriptDirectory {
        image: "nginx",
        dir: "/etc/nginx/templates",
        effect: "renders the *.template files there into /etc/nginx/conf.d with envsubst at every start",
        instead: "render the configuration at build time and COPY the finished file into /etc/nginx/conf.d",
    },
];

/// Environment variables a public image's entrypoint script reads to configure itself.
pub struct ScriptVariables {
    /// The Docker Hub image whose script reads them.
    pub image: &'static str,
    pub names: &'static [&'static str],
    /// The script also reads `<NAME>_FILE` (a file holding the value, for secrets).
    pub file_variants: bool,
    /// What the script does with them.
    pub effect: &'static str,
    /// How to get the same effect without the script.
    pub instead: &'static str,
}

/// The variables each public image's entrypoint script reads, by image. Sources: the
/// docker-library `docker-entrypoint.sh` of postgres (`file_env` calls, `POSTGRES_INITDB_WALDIR`,
/// `POSTGRES_HOST_AUTH_METHOD`), mysql and mariadb (`file_env` / `_mariadb_file_env`, which
/// also accepts the `MYSQL_` names), mongo (`MONGO_INITDB_*`), and nginxinc/docker-nginx's
/// entrypoint scripts (`NGINX_ENTRYPOINT_*`, `NGINX_ENVSUBST_*`). Variables the server itself
/// reads (`PGDATA`) are not listed: they keep working.
pub const SCRIPT_VARIABLES: &[ScriptVariables] = &[
    ScriptVariables {
        image: "postgres",
        names: &[
            "POSTGRES_PASSWORD",
            "POSTGRES_USER",
            "POSTGRES_DB",
            "POSTGRES_INITDB_ARGS",
            "POSTGRES_INITDB_WALDIR",
            "POSTGRES_HOST_AUTH_METHOD",
        ],
        file_variants: true,
        effect: "to create the superuser and database when it initialises an empty data directory",
        instead: INIT_INSTEAD,
    },
    ScriptVariables {
        image: "mysql",
        names: &[
            "MYSQL_ROOT_PASSWORD",
            "MYSQL_DATABASE",
            "MYSQL_USER",
            "MYSQL_PASSWORD",
            "MYSQL_ALLOW_EMPTY_PASSWORD",
            "MYSQL_RANDOM_ROOT_PASSWORD",
            "MYSQL_ONETIME_PASSWORD",
            "MYSQL_ROOT_HOST",
            "MYSQL_INITDB_SKIP_TZINFO",
        ],
        file_variants: true,
        effect: "to set the root password and create the database and user when it initialises an empty data directory",
        instead: INIT_INSTEAD,
    },
    ScriptVariables {
        image: "mariadb",
        names: &[
            "MARIADB_ROOT_PASSWORD",
            "MARIADB_ROOT_PASSWORD_HASH",
            "MARIADB_DATABASE",
            "MARIADB_USER",
            "MARIADB_PASSWORD",
            "MARIADB_PASSWORD_HASH",
            "MARIADB_ALLOW_EMPTY_ROOT_PASSWORD",
            "MARIADB_RANDOM_ROOT_PASSWORD",
            "MARIADB_ROOT_HOST",
            "MARIADB_USER_HOST",
            "MARIADB_INITDB_SKIP_TZINFO",
            "MYSQL_ROOT_PASSWORD",
            "MYSQL_DATABASE",
            "MYSQL_USER",
            "MYSQL_PASSWORD",
            "MYSQL_ALLOW_EMPTY_PASSWORD",
            "MYSQL_RANDOM_ROOT_PASSWORD",
            "MYSQL_ROOT_HOST",
            "MYSQL_INITDB_SKIP_TZINFO",
        ],
        file_variants: true,
        effect: "to set the root password and create the database and user when it initialises an empty data directory",
        instead: INIT_INSTEAD,
    },
    ScriptVariables {
        image: "mongo",
        names: &[
            "MONGO_INITDB_ROOT_USERNAME",
            "MONGO_INITDB_ROOT_PASSWORD",
            "MONGO_INITDB_DATABASE",
        ],
        file_variants: true,
        effect: "to create the root user and first database when it initialises an empty database",
        instead: INIT_INSTEAD,
    },
    ScriptVariables {
        image: "nginx",
        names: &[
            "NGINX_ENVSUBST_TEMPLATE_DIR",
            "NGINX_ENVSUBST_TEMPLATE_SUFFIX",
            "NGINX_ENVSUBST_OUTPUT_DIR",
            "NGINX_ENVSUBST_FILTER",
            "NGINX_ENTRYPOINT_QUIET_LOGS",
            "NGINX_ENTRYPOINT_LOCAL_RESOLVERS",
            "NGINX_ENTRYPOINT_WORKER_PROCESSES_AUTOTUNE",
        ],
        file_variants: false,
        effect: "to render /etc/nginx/templates and tune the configuration at every start",
        instead: NGINX_INSTEAD,
    },
];

impl ScriptVariables {
    fn reads(&self, name: &str) -> bool {
        self.names.contains(&name)
            || (self.file_variants
                && name
                    .strip_suffix("_FILE")
                    .is_some_and(|base| self.names.contains(&base)))
    }
}

/// Whether the catalog entry replaces the Docker Hub image `image`.
fn entry_is(entry: &Entry, image: &str) -> bool {
    entry.name == image
        || entry
            .matches
            .iter()
            .any(|repository| *repository == format!("docker.io/library/{image}"))
}

/// Why the replacement will not run the public image's entrypoint script; `None` when it will
/// (same entrypoint, and a shell to run it).
fn script_missing(model: &StageModel<'_, '_, '_>, index: usize, entry: &Entry) -> Option<String> {
    let public = entry.public.entrypoint.as_deref();
    let no_shell = model.has_shell(index) == Some(false);
    match entry.hardened.entrypoint.as_deref() {
        Some(hardened) if Some(hardened) == public => {
            no_shell.then(|| "the replacement has no shell to run that script".to_owned())
        }
        Some([]) => Some("the replacement has no entrypoint".to_owned()),
        Some(hardened) => Some(format!(
            "the replacement's entrypoint is `{}`, not that script",
            hardened.join(" ")
        )),
        None => Some(format!(
            "the replacement is not known to run that script (the catalog entry `{}` has no `hardened.entrypoint`){}",
            entry.name,
            if no_shell {
                ", and it has no shell"
            } else {
                ""
            }
        )),
    }
}

/// `the public postgres image's entrypoint script (`docker-entrypoint.sh`)`.
fn public_script(entry: &Entry, image: &str) -> String {
    match entry
        .public
        .entrypoint
        .as_deref()
        .and_then(|entrypoint| entrypoint.first())
    {
        Some(script) => format!("the public {image} image's entrypoint script (`{script}`)"),
        None => format!("the public {image} image's entrypoint script"),
    }
}

fn entrypoint_features(
    model: &StageModel<'_, '_, '_>,
    index: usize,
    entry: &Entry,
) -> Vec<Diagnostic> {
    let directories: Vec<&ScriptDirectory> = SCRIPT_DIRECTORIES
        .iter()
        .filter(|directory| entry_is(entry, directory.image))
        .collect();
    let variables: Vec<&ScriptVariables> = SCRIPT_VARIABLES
        .iter()
        .filter(|variables| entry_is(entry, variables.image))
        .collect();
    if directories.is_empty() && variables.is_empty() {
        return Vec::new();
    }
    let Some(reason) = script_missing(model, index, entry) else {
        return Vec::new();
    };
    let mut diagnostics = Vec::new();
    let mut public = model.sweep(index, View::Public);
    for (file_index, instruction) in body(model, index) {
        let Some(range) = model.file.instruction_range(instruction) else {
            continue;
        };
        if let Instruction::Env(env) = instruction {
            let names = env_names(env.arguments.value.as_ref());
            for variables in &variables {
                let read: Vec<String> = names
                    .iter()
                    .filter(|name| variables.reads(name))
                    .map(|name| format!("`{name}`"))
                    .collect();
                if read.is_empty() {
                    continue;
                }
                let (subject, verb) = match read.len() {
                    1 => (read.join(""), "is"),
                    _ => (join_and(&read), "are"),
                };
                diagnostics.push(
                    Diagnostic::report(
                        Rule::EntrypointFeature,
                        range.clone(),
                        format!(
                            "{subject} {verb} read by {} {}; {reason}, so the replacement may not honour {} unless its documentation says it does",
                            public_script(entry, variables.image),
                            variables.effect,
                            if read.len() == 1 { "it" } else { "them" },
                        ),
                    )
                    .suggest(format!("check that, or {}", variables.instead)),
                );
                break;
            }
            continue;
        }
        let Some((action, paths)) = instruction_paths(&mut public, file_index, instruction) else {
            continue;
        };
        let Some(directory) = directories
            .iter()
            .find(|directory| paths.iter().any(|path| mentions(path, directory.dir)))
        else {
            continue;
        };
        diagnostics.push(
            Diagnostic::report(
                Rule::EntrypointFeature,
                range,
                format!(
                    "this {action} {}/: {} {}; {reason}, so that will not happen",
                    directory.dir,
                    public_script(entry, directory.image),
                    directory.effect,
                ),
            )
            .suggest(directory.instead),
        );
    }
    diagnostics
}

/// What an instruction does with paths (for the message) and the texts to search for them:
/// COPY/ADD destinations (made absolute with the stage's WORKDIR), VOLUME paths, RUN text.
fn instruction_paths(
    public: &mut ConfigSweep<'_, '_, '_, '_>,
    file_index: usize,
    instruction: &Instruction<'_>,
) -> Option<(&'static str, Vec<String>)> {
    let mut destination = |dest: &str, keyword: &'static str| {
        let path = match dest.starts_with('/') || dest.starts_with('$') {
            true => dest.to_owned(),
            false => join_path(public.before(file_index).workdir.as_deref()?, dest),
        };
        Some((keyword, vec![path]))
    };
    match instruction {
        Instruction::Copy(copy) => destination(copy.dest.value.as_ref(), "COPY puts files in"),
        Instruction::Add(add) => destination(add.dest.value.as_ref(), "ADD puts files in"),
        Instruction::Volume(volume) => {
            let paths = match &volume.arguments {
                JsonOrStringArray::Json(json) => &json.value[..],
                JsonOrStringArray::String(paths) => &paths[..],
            };
            Some((
                "VOLUME mounts",
                paths.iter().map(|path| path.value.to_string()).collect(),
            ))
        }
        Instruction::Run(run) => {
            let mut texts = Vec::new();
            match &run.arguments {
                Command::Shell(shell) => texts.push(shell.value.to_owned()),
                Command::Exec(exec) => texts.extend(exec.value.iter().map(|w| w.value.to_string())),
                _ => {}
            }
            texts.extend(run.here_docs.iter().map(|doc| doc.value.to_string()));
            Some(("RUN works on", texts))
        }
        _ => None,
    }
}

/// Whether `text` names `dir` or a path under it as a whole path (not `/x/docker-entrypoint.d`
/// nor `/docker-entrypoint.dx`).
fn mentions(text: &str, dir: &str) -> bool {
    let mut from = 0;
    while let Some(found) = text.get(from..).and_then(|rest| rest.find(dir)) {
        let start = from + found;
        let end = start + dir.len();
        let before = text.get(..start).and_then(|head| head.chars().next_back());
        let after = text.get(end..).and_then(|tail| tail.chars().next());
        let path_char = |ch: char| ch.is_ascii_alphanumeric() || "_-.".contains(ch);
        let starts_path = before.is_none_or(|ch| !(path_char(ch) || "/}$~".contains(ch)));
        let ends_path = after.is_none_or(|ch| !path_char(ch));
        if starts_path && ends_path {
            return true;
        }
        from = end;
    }
    false
}

/// The names an `ENV` sets: `ENV A=1 B="2"` or the legacy `ENV A 1 2`.
fn env_names(text: &str) -> Vec<String> {
    let words: Vec<Word> = shell::simple_commands(text)
        .into_iter()
        .flat_map(|command| command.words)
        .collect();
    match words.first() {
        Some(first) if !first.assignment => vec![first.text.clone()],
        _ => words
            .iter()
            .filter(|word| word.assignment)
            .filter_map(|word| word.text.split_once('=').map(|(name, _)| name.to_owned()))
            .collect(),
    }
}

// ---------------------------------------------------------------------------------------------
// onbuild
// ---------------------------------------------------------------------------------------------

fn onbuild_triggers(
    model: &StageModel<'_, '_, '_>,
    index: usize,
    entry: &Entry,
) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    for (_, instruction) in body(model, index) {
        let Instruction::Onbuild(onbuild) = instruction else {
            continue;
        };
        let Some(range) = model.file.instruction_range(instruction) else {
            continue;
        };
        let trigger = crate::dockerfile::instruction_keyword(&onbuild.instruction);
        // Why it matters for this trigger, when there is more to say than "it runs later".
        let (why, advice) = match (&*onbuild.instruction, model.has_shell(index)) {
            (Instruction::Run(_), Some(false)) => (
                format!(
                    ": a RUN trigger needs a shell, and this stage ships {}'s production image, which has none, so those builds fail",
                    entry.replacement
                ),
                "build them FROM the -dev variant or move the step into their Dockerfiles"
                    .to_owned(),
            ),
            (Instruction::Run(_), None) => (
                format!(
                    ": a RUN trigger needs a shell, and the catalog entry `{}` does not say whether the replacement has one (`hardened.shell`)",
                    entry.name
                ),
                "check it there".to_owned(),
            ),
            (Instruction::Run(_), Some(true)) => (
                String::new(),
                format!(
                    "check that the command works on {}'s -dev variant (its package manager and user differ from the public image's)",
                    entry.replacement
                ),
            ),
            _ => (
                String::new(),
                format!(
                    "check that it still works on {} (its user, working directory and paths may differ from the public image's)",
                    entry.replacement
                ),
            ),
        };
        diagnostics.push(
            Diagnostic::report(
                Rule::Onbuild,
                range,
                format!(
                    "ONBUILD {trigger} in stage {} runs later, in every image built FROM this one, which now starts from {}{why}",
                    stage_label(model, index),
                    entry.replacement
                ),
            )
            .suggest(advice),
        );
    }
    diagnostics
}

// ---------------------------------------------------------------------------------------------
// Text helpers
// ---------------------------------------------------------------------------------------------

/// `a`, `a and b`, `a, b and c`.
fn join_and<S: AsRef<str>>(items: &[S]) -> String {
    join_with(items, "and")
}

/// `a`, `a or b`, `a, b or c`.
fn join_or<S: AsRef<str>>(items: &[S]) -> String {
    join_with(items, "or")
}

fn join_with<S: AsRef<str>>(items: &[S], last: &str) -> String {
    match items {
        [] => String::new(),
        [only] => only.as_ref().to_owned(),
        [head @ .., tail] => format!(
            "{} {last} {}",
            head.iter()
                .map(AsRef::as_ref)
                .collect::<Vec<&str>>()
                .join(", "),
            tail.as_ref()
        ),
    }
}

#[cfg(test)]
mod tests;
