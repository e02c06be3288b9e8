//! `entrypoint-feature` (documented in the parent module's header).

use parse_dockerfile::{Command, Instruction, JsonOrStringArray};

use super::{body, join_and};
use crate::catalog::Entry;
use crate::diagnostic::Diagnostic;
use crate::rules::Rule;
use crate::shell::{self, Word};
use crate::stages::{ConfigSweep, StageModel, View, join_path};

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
    script_missing_with(entry, model.has_shell(index))
}

/// [`script_missing`] for a container that runs the replacement with `has_shell` (`None`:
/// not known).
pub(crate) fn script_missing_with(entry: &Entry, has_shell: Option<bool>) -> Option<String> {
    let public = entry.public.entrypoint.as_deref();
    let no_shell = has_shell == Some(false);
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

/// The message and suggestion for variables among `names` that the public image's script
/// reads and the replacement, for `reason`, may not: `None` when none of them is read.
pub(crate) fn unread_variables(
    entry: &Entry,
    names: &[String],
    reason: &str,
) -> Option<(String, String)> {
    SCRIPT_VARIABLES
        .iter()
        .filter(|variables| entry_is(entry, variables.image))
        .find_map(|variables| {
            let read: Vec<String> = names
                .iter()
                .filter(|name| variables.reads(name))
                .map(|name| format!("`{name}`"))
                .collect();
            if read.is_empty() {
                return None;
            }
            let (subject, verb) = match read.len() {
                1 => (read.join(""), "is"),
                _ => (join_and(&read), "are"),
            };
            Some((
                format!(
                    "{subject} {verb} read by {} {}; {reason}, so the replacement may not honour {} unless its documentation says it does",
                    public_script(entry, variables.image),
                    variables.effect,
                    if read.len() == 1 { "it" } else { "them" },
                ),
                format!("check that, or {}", variables.instead),
            ))
        })
}

/// The message and suggestion for variables a file sets (Compose `env_file`), which hardport
/// does not read, when the public image's script reads some and the replacement, for `reason`,
/// may not: `None` for an image whose script reads none.
pub(crate) fn unread_variable_file(entry: &Entry, reason: &str) -> Option<(String, String)> {
    let variables = SCRIPT_VARIABLES
        .iter()
        .find(|variables| entry_is(entry, variables.image))?;
    Some((
        format!(
            "{} reads variables such as `{}` {}; {reason}, so the replacement may not honour those this file sets unless its documentation says it does",
            public_script(entry, variables.image),
            variables.names.first().copied().unwrap_or_default(),
            variables.effect,
        ),
        format!("check the file's variables, or {}", variables.instead),
    ))
}

/// The message and suggestion for a mount or copy into `path`, a directory the public image's
/// script acts on and the replacement, for `reason`, may not: `None` for any other path.
pub(crate) fn unread_directory(
    entry: &Entry,
    path: &str,
    reason: &str,
) -> Option<(String, String)> {
    let directory = SCRIPT_DIRECTORIES
        .iter()
        .filter(|directory| entry_is(entry, directory.image))
        .find(|directory| mentions(path, directory.dir))?;
    Some((
        format!(
            "{}/: {} {}; {reason}, so that will not happen",
            directory.dir,
            public_script(entry, directory.image),
            directory.effect,
        ),
        directory.instead.to_owned(),
    ))
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

pub(super) fn entrypoint_features(
    model: &StageModel<'_, '_, '_>,
    index: usize,
    entry: &Entry,
) -> Vec<Diagnostic> {
    let directories: Vec<&ScriptDirectory> = SCRIPT_DIRECTORIES
        .iter()
        .filter(|directory| entry_is(entry, directory.image))
        .collect();
    let has_variables = SCRIPT_VARIABLES
        .iter()
        .any(|variables| entry_is(entry, variables.image));
    if directories.is_empty() && !has_variables {
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
            if let Some((message, suggestion)) = unread_variables(entry, &names, &reason) {
                diagnostics.push(
                    Diagnostic::report(Rule::EntrypointFeature, range.clone(), message)
                        .suggest(suggestion),
                );
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
pub(super) fn mentions(text: &str, dir: &str) -> bool {
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
pub(super) fn env_names(text: &str) -> Vec<String> {
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
