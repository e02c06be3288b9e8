//! Which file names are Dockerfiles, which are templates of one, which are Compose files,
//! kustomizations and workflows, and which directories hold vendored code.
//!
//! Dockerfile names follow Renovate's `dockerfile` manager, the widest matcher in use, so a
//! repository Renovate keeps up to date is migrated whole. Its default `managerFilePatterns`
//! (`lib/modules/manager/dockerfile/index.ts` in renovatebot/renovate, `fileMatch` before 41.x)
//! are two regular expressions over the repository path:
//!
//! ```text
//! (^|/|\.)([Dd]ocker|[Cc]ontainer)file$
//! (^|/)([Dd]ocker|[Cc]ontainer)file[^/]*$
//! ```
//!
//! that is: a base name that ends in `Dockerfile`, `dockerfile`, `Containerfile` or
//! `containerfile` after a dot or as the whole name, or that starts with one of them. Only the
//! first letter may be either case (`DockerFile` and `DOCKERFILE` are not taken, as in Renovate).
//! Renovate reads a matched file that is no Dockerfile as one without images; hardport would
//! report it as unparsable (exit 2), so the names that are certainly something else are left
//! out: Docker's per-Dockerfile ignore files (`Dockerfile.dockerignore`, read by BuildKit
//! beside `-f Dockerfile`), documentation (`Dockerfile.md`, `Dockerfile.5.md` in docker/cli),
//! and editor, merge and patch leftovers.

/// The names Renovate's patterns build on; only the first letter may be either case.
const STEMS: [&str; 4] = ["Dockerfile", "dockerfile", "Containerfile", "containerfile"];

/// Last extensions (compared in lower case) that make a Renovate-matched name something other
/// than a Dockerfile.
pub const NOT_DOCKERFILE_EXTENSIONS: [&str; 17] = [
    // Docker's own ignore file for one Dockerfile: `Dockerfile.dockerignore`.
    "dockerignore",
    // Documentation and data about a Dockerfile.
    "md",
    "markdown",
    "rst",
    "adoc",
    "txt",
    "html",
    "json",
    "yaml",
    "yml",
    "toml",
    // Editor, merge and patch leftovers.
    "orig",
    "rej",
    "bak",
    "swp",
    "patch",
    "diff",
];

/// Last extensions (compared in lower case) of a Dockerfile template: docker-library's
/// `Dockerfile.template` and `Dockerfile-linux.template` (jq templates), Go's `text/template`
/// (`.tmpl`, `.tpl`, `.gotmpl`), Jinja (`.j2`, `.jinja`, `.jinja2`, common with Ansible),
/// `Dockerfile.in` (sed or make substitution, as in Kubernetes' go-build-template), ERB,
/// Mustache, Handlebars and EJS.
pub const TEMPLATE_EXTENSIONS: [&str; 12] = [
    "template", "tmpl", "tpl", "gotmpl", "j2", "jinja", "jinja2", "in", "erb", "mustache", "hbs",
    "ejs",
];

/// Directory names the walk skips unless `--include-vendored` is given: code of other projects
/// kept in the repository (Go's and PHP's `vendor/`, npm's `node_modules/`, Chromium- and
/// LLVM-style `third_party/`, `third-party/`) and Python environments (`.venv/`, and any
/// `site-packages/`, which is where a virtual environment of any name keeps its packages). Their
/// Dockerfiles are their authors' to migrate; a patch to them is lost at the next vendoring.
pub const VENDORED_DIRS: [&str; 6] = [
    "vendor",
    "node_modules",
    "third_party",
    "third-party",
    ".venv",
    "site-packages",
];

/// Whether a walk takes a file of this base name as a Dockerfile (or as a template of one,
/// see [`is_template_name`]): Renovate's names, less the ones that are certainly not
/// Dockerfiles (see the module documentation).
pub fn is_dockerfile_name(name: &str) -> bool {
    renovate_matches(name) && !last_extension(name).is_some_and(is_not_dockerfile_extension)
}

/// Renovate's two patterns, on a base name.
fn renovate_matches(name: &str) -> bool {
    STEMS.iter().any(|stem| {
        name.starts_with(stem)
            || name
                .strip_suffix(stem)
                .is_some_and(|before| before.is_empty() || before.ends_with('.'))
    })
}

/// Whether the name ends in a template extension (`Dockerfile.template`, `base.tmpl`).
pub fn is_template_name(name: &str) -> bool {
    last_extension(name).is_some_and(|extension| {
        TEMPLATE_EXTENSIONS
            .iter()
            .any(|template| extension.eq_ignore_ascii_case(template))
    })
}

fn is_not_dockerfile_extension(extension: &str) -> bool {
    NOT_DOCKERFILE_EXTENSIONS
        .iter()
        .any(|other| extension.eq_ignore_ascii_case(other))
}

/// What follows the last dot of a name, when the dot is not its first character.
pub fn last_extension(name: &str) -> Option<&str> {
    match name.rfind('.') {
        Some(0) | None => None,
        Some(dot) => Some(&name[dot + 1..]),
    }
}

/// Whether a directory of this name holds vendored code (see [`VENDORED_DIRS`]).
pub fn is_vendored_dir(name: &str) -> bool {
    VENDORED_DIRS.contains(&name)
}

/// `values*.yaml` or `values*.yml`, but not a JSON schema written in YAML
/// (`values.schema.yaml`, JupyterHub's): it describes values, Helm never reads it as values.
pub fn is_values_name(name: &str) -> bool {
    let is_yaml = name.ends_with(".yaml") || name.ends_with(".yml");
    let is_schema = name.starts_with("values.schema.");
    name.starts_with("values") && is_yaml && !is_schema
}

/// Whether a YAML file of this base name is a Compose file: Renovate's `docker-compose`
/// manager takes `(^|/)(?:docker-)?compose[^/]*\.ya?ml$`; hardport wants a separator after
/// `compose` (`compose.yaml`, `docker-compose.prod.yml`, `compose-dev.yaml`,
/// `compose.override.yaml`), so PHP's `composer.yaml` is not read as one.
pub fn is_compose_name(name: &str) -> bool {
    let Some(stem) = yaml_stem(name) else {
        return false;
    };
    let stem = stem.strip_prefix("docker-").unwrap_or(stem);
    stem.strip_prefix("compose")
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '-', '_']))
}

/// Whether a file of this base name is a kustomization (`kustomization.yaml`, `.yml`, or
/// `Kustomization`, the three names `kustomize build` looks for in a directory).
pub fn is_kustomization_name(name: &str) -> bool {
    matches!(
        name,
        "kustomization.yaml" | "kustomization.yml" | "Kustomization"
    )
}

/// Whether `path` is a workflow: a YAML file directly in `.github/workflows/` (or Gitea's and
/// Forgejo's `.gitea/workflows/`, `.forgejo/workflows/`, which run the same syntax). GitHub
/// runs no other file, so a YAML file deeper down, or elsewhere, is not one.
pub fn is_workflow_path(path: &std::path::Path) -> bool {
    let name = path.file_name().and_then(|name| name.to_str());
    name.is_some_and(|name| yaml_stem(name).is_some())
        && path.parent().is_some_and(is_workflows_dir)
}

/// Whether `dir` is a forge's workflow directory (`.github/workflows`, `.gitea/workflows`,
/// `.forgejo/workflows`), as its path says.
pub fn is_workflows_dir(dir: &std::path::Path) -> bool {
    let forge = dir.parent().and_then(|dir| dir.file_name());
    dir.file_name().is_some_and(|name| name == "workflows")
        && forge.is_some_and(|forge| forge == ".github" || forge == ".gitea" || forge == ".forgejo")
}

/// Whether a base name is a YAML file's (`.yaml`, `.yml`), one that could hold a Kubernetes
/// manifest; the content decides whether it does.
pub fn is_yaml_name(name: &str) -> bool {
    yaml_stem(name).is_some_and(|stem| !stem.is_empty())
}

/// The name without its `.yaml` or `.yml` extension, for a YAML file's name.
fn yaml_stem(name: &str) -> Option<&str> {
    name.strip_suffix(".yaml")
        .or_else(|| name.strip_suffix(".yml"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compose_names_are_renovates_with_a_separator_after_compose() {
        for name in [
            "compose.yaml",
            "compose.yml",
            "docker-compose.yml",
            "docker-compose.prod.yml",
            "docker-compose-dev.yaml",
            "compose.override.yaml",
            "docker-compose_test.yml",
        ] {
            assert!(is_compose_name(name), "{name}");
        }
        for name in [
            "composer.yaml",
            "docker-compose.json",
            "compose",
            "my-compose.yml",
            "compose.yaml.bak",
        ] {
            assert!(!is_compose_name(name), "{name}");
        }
    }

    #[test]
    fn kustomizations_and_workflows_are_found_by_name_and_place() {
        use std::path::Path;
        assert!(is_kustomization_name("kustomization.yaml"));
        assert!(is_kustomization_name("Kustomization"));
        assert!(!is_kustomization_name("kustomization.json"));
        for path in [
            ".github/workflows/ci.yml",
            "repo/.github/workflows/release.yaml",
            ".forgejo/workflows/test.yml",
        ] {
            assert!(is_workflow_path(Path::new(path)), "{path}");
        }
        for path in [
            ".github/workflows/nested/ci.yml",
            ".github/ci.yml",
            "workflows/ci.yml",
            ".github/workflows/README.md",
            ".github/actions/setup/action.yml",
        ] {
            assert!(!is_workflow_path(Path::new(path)), "{path}");
        }
        assert!(is_yaml_name("deploy.yaml"));
        assert!(!is_yaml_name(".yaml"));
        assert!(!is_yaml_name("deploy.json"));
    }

    #[test]
    fn values_files_are_values_but_a_values_schema_is_not() {
        for name in ["values.yaml", "values-prod.yml", "values.dev.yaml"] {
            assert!(is_values_name(name), "{name}");
        }
        for name in [
            "values.schema.yaml",
            "values.schema.yml",
            "values.json",
            "myvalues.yaml",
        ] {
            assert!(!is_values_name(name), "{name}");
        }
    }

    #[test]
    fn dockerfile_names_are_renovates() {
        for name in [
            "Dockerfile",
            "dockerfile",
            "Containerfile",
            "containerfile",
            "Dockerfile.dev",
            "Containerfile.prod",
            "Dockerfile-dev",
            "Dockerfile_prod",
            "Dockerfile-Windows",
            "Containerfile-ci",
            "dockerfile.alpine",
            "Dockerfiles",
            "Dockerfile.",
            "api.Dockerfile",
            "api.dockerfile",
            "api.Containerfile",
            "api.containerfile",
            ".Dockerfile",
            "Dockerfile.golang",
            // Templates are found, then skipped with a message (see `is_template_name`).
            "Dockerfile.template",
            "Dockerfile-linux.template",
        ] {
            assert!(is_dockerfile_name(name), "{name}");
        }
        for name in [
            // Case beyond the first letter, as in Renovate.
            "DockerFile",
            "DOCKERFILE",
            "api.DockerFile",
            // Neither a stem at the start nor `.stem` at the end.
            "empty_dockerfile",
            "my-Dockerfile",
            "apiDockerfile",
            "docker-compose.yaml",
            "README.md",
            // Renovate's names that are certainly not Dockerfiles.
            "Dockerfile.dockerignore",
            "Dockerfile.5.md",
            "Dockerfile.MD",
            "dockerfile.txt",
            "Dockerfile.orig",
            "Dockerfile.rej",
            "Dockerfile.swp",
            "Dockerfile.patch",
            "Dockerfile.json",
        ] {
            assert!(!is_dockerfile_name(name), "{name}");
        }
    }

    #[test]
    fn template_names() {
        for name in [
            "Dockerfile.template",
            "Dockerfile-debian.template",
            "Dockerfile.tmpl",
            "Dockerfile.TPL",
            "Dockerfile.j2",
            "Dockerfile.jinja2",
            "Dockerfile.in",
            "base.gotmpl",
        ] {
            assert!(is_template_name(name), "{name}");
        }
        for name in [
            "Dockerfile",
            "Dockerfile.dev",
            "Dockerfile.windowsservercore-iis",
            ".in",
            "Dockerfile-in",
            "Dockerfile.internal",
        ] {
            assert!(!is_template_name(name), "{name}");
        }
    }

    #[test]
    fn vendored_dirs() {
        for name in [
            "vendor",
            "node_modules",
            "third_party",
            ".venv",
            "site-packages",
        ] {
            assert!(is_vendored_dir(name), "{name}");
        }
        for name in ["vendors", "Vendor", "build", "venv-tools", "thirdparty"] {
            assert!(!is_vendored_dir(name), "{name}");
        }
    }

    #[test]
    fn values_names() {
        assert!(is_values_name("values.yaml"));
        assert!(is_values_name("values-prod.yml"));
        assert!(!is_values_name("Chart.yaml"));
        assert!(!is_values_name("values.json"));
    }
}
