//! Image facts read from an image's own configuration instead of written by hand.
//!
//! Two file shapes are accepted, both as the tools print them:
//!
//! - an **OCI image config**, the JSON `crane config IMAGE` and `skopeo inspect --config
//!   docker://IMAGE` print: `{"architecture", "os", "config": {"User", "Entrypoint", …},
//!   "rootfs", …}`. It is read with `oci-spec`'s [`ImageConfiguration`], so a file it cannot
//!   read (no `architecture`, `os` or `rootfs`, a field of the wrong type) is an error, not a
//!   guess;
//! - **`docker inspect` output** (`docker image inspect IMAGE`, `podman image inspect IMAGE`): a
//!   JSON array of one object whose `Config` holds the same fields (or that one object alone).
//!   Only `Config` is read, with `oci-spec`'s [`Config`]; Docker-only fields (`Healthcheck`,
//!   `OnBuild`, …) are not image facts hardport uses.
//!
//! A config is the image's *effective* runtime configuration — every base image's settings are
//! already merged into it — so a field it leaves out has the runtime's default, not an unknown
//! value: no `User` runs as root (`0`), no `WorkingDir` starts in `/`, no `Entrypoint`, `Cmd`,
//! `Volumes`, `ExposedPorts` or `Env` means none. [`ConfigFacts::spec`] states all of these.
//! The group is stated only when `User` names one (`65532:65532`); otherwise the image's
//! `/etc/passwd` decides it, which a config does not show.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use oci_spec::image::{Config, ImageConfiguration};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::catalog::{Id, ImageSpec};
use crate::input::{self, Links};

/// Why an image config could not be read. Every message names the file (and line and column
/// where the JSON says where).
#[derive(Debug, thiserror::Error)]
pub enum OciConfigError {
    #[error("{}: cannot read the image config: {error}", path.display())]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{}:{line}:{column}: {message}", path.display())]
    Json {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{}: {message}", path.display())]
    Shape { path: PathBuf, message: String },
}

/// Which tool's output the file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigKind {
    /// An OCI image config (`crane config`, `skopeo inspect --config`).
    OciImageConfig,
    /// `docker inspect` / `podman inspect` output of an image.
    DockerInspect,
}

/// The facts one config file states, and what identifies the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigFacts {
    /// user, group (when stated), entrypoint, cmd, workdir, volumes, exposed ports and env.
    pub spec: ImageSpec,
    /// SHA-256 of the file's bytes, lowercase hex. For `crane config` output this is the
    /// image's config digest, so the catalog can name exactly which image it read.
    pub sha256: String,
    pub kind: ConfigKind,
}

impl ConfigFacts {
    /// How a catalog `source` cites this file: `OCI image config node.json (sha256:…)`.
    pub fn citation(&self, written_path: &str) -> String {
        let kind = match self.kind {
            ConfigKind::OciImageConfig => "OCI image config",
            ConfigKind::DockerInspect => "`docker inspect` output",
        };
        format!("{kind} {written_path} (sha256:{})", self.sha256)
    }
}

/// Read the image config at `path`: a regular file (through links: the path is the user's or
/// their catalog's) of at most [`input::DEFAULT_MAX_FILE_SIZE`] bytes, read without blocking,
/// so a catalog naming `/dev/zero` or a FIFO fails instead of taking the memory or hanging.
pub fn read(path: &Path) -> Result<ConfigFacts, OciConfigError> {
    let bytes =
        input::read_bytes(path, input::DEFAULT_MAX_FILE_SIZE, Links::Follow).map_err(|error| {
            OciConfigError::Read {
                path: path.to_path_buf(),
                error: std::io::Error::other(error),
            }
        })?;
    parse(&bytes, path)
}

/// Read an image config from `bytes`; `path` names it in errors.
pub fn parse(bytes: &[u8], path: &Path) -> Result<ConfigFacts, OciConfigError> {
    let shape_error = |message: String| OciConfigError::Shape {
        path: path.to_path_buf(),
        message,
    };
    let value: Value =
        serde_json::from_slice(bytes).map_err(|error| json_error(path, None, error))?;
    let (kind, config) = match &value {
        Value::Array(items) => {
            match items.as_slice() {
                [] => {
                    return Err(shape_error(
                        "an empty `docker inspect` array: it holds no image".into(),
                    ));
                }
                [Value::Object(object)] => check_docker_object(object).map_err(shape_error)?,
                [_] => {
                    return Err(shape_error(
                        "a `docker inspect` array must hold an object with `Config`".into(),
                    ));
                }
                more => {
                    return Err(shape_error(format!(
                        "`docker inspect` output of {} images; inspect one image per file",
                        more.len()
                    )));
                }
            }
            let images: Vec<DockerImage> = typed(bytes, path)?;
            let config = images.into_iter().next().and_then(|image| image.config);
            (ConfigKind::DockerInspect, config)
        }
        Value::Object(object) => match classify(object).map_err(shape_error)? {
            ConfigKind::DockerInspect => {
                let image: DockerImage = typed(bytes, path)?;
                (ConfigKind::DockerInspect, image.config)
            }
            ConfigKind::OciImageConfig => {
                let image: ImageConfiguration = typed(bytes, path)?;
                (ConfigKind::OciImageConfig, image.config().clone())
            }
        },
        other => {
            return Err(shape_error(format!(
                "expected an OCI image config (a JSON object) or `docker inspect` output (a JSON array), found {}",
                json_type(other)
            )));
        }
    };
    Ok(ConfigFacts {
        spec: facts(config.as_ref()).map_err(shape_error)?,
        sha256: sha256_hex(bytes),
        kind,
    })
}

/// One image of `docker inspect` output: only `Config` is read.
#[derive(Deserialize)]
struct DockerImage {
    #[serde(rename = "Config")]
    config: Option<Config>,
}

/// Tell an OCI image config from a single `docker inspect` object, and name the JSON documents
/// people mistake for either.
fn classify(object: &Map<String, Value>) -> Result<ConfigKind, String> {
    if object.contains_key("schemaVersion") {
        return Err(
            "this is an image manifest or index, not the image's config; print the config with `crane config IMAGE` or `skopeo inspect --config docker://IMAGE`"
                .into(),
        );
    }
    if object.contains_key("Config") {
        return check_docker_object(object).map(|_| ConfigKind::DockerInspect);
    }
    if ["architecture", "os", "rootfs", "config"]
        .iter()
        .any(|key| object.contains_key(*key))
    {
        return Ok(ConfigKind::OciImageConfig);
    }
    if object.contains_key("Layers") || object.contains_key("LayersData") {
        return Err(
            "this is `skopeo inspect` output, which has no User, Entrypoint or Cmd; run `skopeo inspect --config docker://IMAGE`"
                .into(),
        );
    }
    Err("not an OCI image config (it has none of `architecture`, `os`, `rootfs`, `config`) nor `docker inspect` output (an array of objects with `Config`)".into())
}

/// A `docker inspect` object must describe an image: a container's `Config` holds what the
/// container was started with, not the image's defaults.
fn check_docker_object(object: &Map<String, Value>) -> Result<(), String> {
    if object.contains_key("State") || object.contains_key("Mounts") {
        return Err(
            "this is `docker inspect` output of a container, not of an image; run `docker image inspect IMAGE`"
                .into(),
        );
    }
    if !object.contains_key("Config") {
        return Err("a `docker inspect` object without `Config`".into());
    }
    Ok(())
}

/// Deserialize `bytes` as `T`, reporting where and in which field it failed.
fn typed<T: DeserializeOwned>(bytes: &[u8], path: &Path) -> Result<T, OciConfigError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let field = error.path().to_string();
        json_error(path, (field != ".").then_some(field), error.into_inner())
    })?;
    deserializer
        .end()
        .map_err(|error| json_error(path, None, error))?;
    Ok(value)
}

/// `error` as `path:line:column: message`, naming the JSON field (`config.Cmd`) it is about.
fn json_error(path: &Path, field: Option<String>, error: serde_json::Error) -> OciConfigError {
    let (line, column) = (error.line(), error.column());
    let text = error.to_string();
    let text = text
        .strip_suffix(&format!(" at line {line} column {column}"))
        .unwrap_or(&text);
    let message = match field {
        Some(field) => format!("`{field}`: {text}"),
        None if text.starts_with("missing field") => format!(
            "{text} (every OCI image config has `architecture`, `os` and `rootfs`; print one with `crane config IMAGE` or `skopeo inspect --config docker://IMAGE`)"
        ),
        None => text.to_owned(),
    };
    OciConfigError::Json {
        path: path.to_path_buf(),
        line,
        column,
        message,
    }
}

/// The spec a config states, with the runtime's defaults for what it leaves out.
fn facts(config: Option<&Config>) -> Result<ImageSpec, String> {
    let user = config
        .and_then(|config| config.user().as_deref())
        .filter(|user| !user.is_empty());
    let (user, group) = match user {
        None => ("0", None),
        Some(user) => match user.split_once(':') {
            Some((name, group)) if !name.is_empty() && !group.is_empty() => (name, Some(group)),
            Some(_) => {
                return Err(format!(
                    "`User` {user:?} is not `user`, `uid`, `user:group` or `uid:gid`"
                ));
            }
            None => (user, None),
        },
    };
    let list = |field: Option<&Vec<String>>| field.cloned().unwrap_or_default();
    let mut volumes = list(config.and_then(|config| config.volumes().as_ref()));
    volumes.sort();
    let mut exposed_ports = list(config.and_then(|config| config.exposed_ports().as_ref()));
    exposed_ports.sort_by_key(|port| (port_number(port), port.clone()));
    let mut env = BTreeMap::new();
    for variable in list(config.and_then(|config| config.env().as_ref())) {
        let Some((name, value)) = variable
            .split_once('=')
            .filter(|(name, _)| !name.is_empty())
        else {
            return Err(format!("`Env` entry {variable:?} is not NAME=VALUE"));
        };
        env.insert(name.to_owned(), value.to_owned());
    }
    Ok(ImageSpec {
        user: Some(Id(user.to_owned())),
        group: group.map(|group| Id(group.to_owned())),
        entrypoint: Some(list(config.and_then(|config| config.entrypoint().as_ref()))),
        cmd: Some(list(config.and_then(|config| config.cmd().as_ref()))),
        workdir: Some(
            config
                .and_then(|config| config.working_dir().as_deref())
                .filter(|workdir| !workdir.is_empty())
                .unwrap_or("/")
                .to_owned(),
        ),
        volumes: Some(volumes),
        exposed_ports: Some(exposed_ports),
        env: Some(env),
        ..ImageSpec::default()
    })
}

/// `8080/tcp` → 8080, so ports sort as numbers (`oci-spec` returns them in hash order).
fn port_number(port: &str) -> Option<u32> {
    port.split('/').next()?.parse().ok()
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    let mut hex = String::with_capacity(64);
    for byte in Sha256::digest(bytes) {
        // Writing to a String cannot fail.
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

#[cfg(test)]
mod tests;
