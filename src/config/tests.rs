use super::*;
use crate::rules::Rule;

/// A directory holding `hardport.toml` with `text`, and the files `files` (empty).
fn repo(text: &str, files: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hardport.toml"), text).unwrap();
    for file in files {
        let path = dir.path().join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, "").unwrap();
    }
    dir
}

#[test]
fn the_nearest_file_up_from_the_first_path_is_found() {
    let dir = repo("", &["apps/web/Dockerfile"]);
    std::fs::write(dir.path().join("apps/.hardport.toml"), "").unwrap();
    let found = Config::find(&dir.path().join("apps/web/Dockerfile")).unwrap();
    assert!(
        found.ends_with("apps/.hardport.toml"),
        "{}",
        found.display()
    );
    let found = Config::find(dir.path()).unwrap();
    assert!(found.ends_with("hardport.toml"), "{}", found.display());
}

#[test]
fn settings_are_read_and_a_mistake_names_its_line() {
    let dir = repo(
        "target = \"chainguard\"\ncatalogs = [\"ci/catalog.yaml\"]\nignore = [\"digest-dropped\"]\nfail-on = \"warning\"\n[per-file-ignores]\n\"legacy/\" = [\"user-root\"]\n",
        &[],
    );
    let config = Config::load(&dir.path().join("hardport.toml")).unwrap();
    assert_eq!(config.settings.target.as_deref(), Some("chainguard"));
    assert_eq!(config.settings.fail_on, Some(Severity::Warning));
    assert_eq!(
        config.resolve(&config.settings.catalogs[0]),
        config.dir.join("ci/catalog.yaml")
    );

    let bad = repo("target = \"minimus\"\nignore = [\"no-such-rule\"]\n", &[]);
    let error = Config::load(&bad.path().join("hardport.toml")).unwrap_err();
    assert_eq!(error.line, Some(2), "{error}");
    assert!(
        error.message.contains("unknown rule `no-such-rule`"),
        "{error}"
    );
    let unknown = repo("exlude = []\n", &[]);
    let error = Config::load(&unknown.path().join("hardport.toml")).unwrap_err();
    assert!(
        error.to_string().contains(":1: unknown field `exlude`"),
        "{error}"
    );
}

#[test]
fn exclude_patterns_are_gitignore_patterns_rooted_at_the_file() {
    let dir = repo(
        "exclude = [\"legacy/\"]\nextend-exclude = [\"/charts/*/values-dev.yaml\"]\n",
        &[
            "legacy/Dockerfile",
            "apps/legacy/Dockerfile",
            "apps/web/Dockerfile",
            "charts/web/values-dev.yaml",
            "charts/web/values.yaml",
            "apps/charts/web/values-dev.yaml",
        ],
    );
    let config = Config::load(&dir.path().join("hardport.toml")).unwrap();
    let exclusion = config.exclusion().unwrap();
    let excluded = |path: &str| exclusion.excludes(&dir.path().join(path));
    assert!(excluded("legacy/Dockerfile"));
    assert!(
        excluded("apps/legacy/Dockerfile"),
        "a pattern without `/` matches at any depth"
    );
    assert!(!excluded("apps/web/Dockerfile"));
    assert!(excluded("charts/web/values-dev.yaml"));
    assert!(!excluded("charts/web/values.yaml"));
    assert!(
        !excluded("apps/charts/web/values-dev.yaml"),
        "`/` anchors at the file"
    );
}

#[test]
fn rules_are_selected_ignored_and_ignored_per_file() {
    let dir = repo(
        "select = [\"ALL\"]\nignore = [\"digest-dropped\"]\n[per-file-ignores]\n\"legacy/\" = [\"user-root\", \"workdir\"]\n",
        &["legacy/Dockerfile", "web/Dockerfile"],
    );
    let config = Config::load(&dir.path().join("hardport.toml")).unwrap();
    let scope = config.rule_scope(None, &[]).unwrap();
    let web = scope.for_file(&dir.path().join("web/Dockerfile"));
    let legacy = scope.for_file(&dir.path().join("legacy/Dockerfile"));
    assert!(!web.contains(Rule::DigestDropped));
    assert!(web.contains(Rule::UserRoot));
    assert!(!legacy.contains(Rule::UserRoot) && !legacy.contains(Rule::Workdir));
    assert!(legacy.contains(Rule::BaseImage));

    // The command line's select replaces the file's; its ignore adds to it.
    let only: [RuleSelector; 1] = ["base-image".parse().unwrap()];
    let more: [RuleSelector; 1] = ["user-root".parse().unwrap()];
    let scope = config.rule_scope(Some(&only), &more).unwrap();
    let web = scope.for_file(&dir.path().join("web/Dockerfile"));
    assert_eq!(web.iter().collect::<Vec<_>>(), [Rule::BaseImage]);
    let scope = config.rule_scope(None, &more).unwrap();
    assert!(
        !scope
            .for_file(&dir.path().join("web/Dockerfile"))
            .contains(Rule::UserRoot)
    );
}
