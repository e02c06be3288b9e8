use crate::discovery::FileKind;
use crate::rules::test_support::{has, run_kind};

fn run(text: &str) -> (String, Vec<String>) {
    run_kind(FileKind::Kustomization, text)
}

#[test]
fn an_entry_that_produces_a_mapped_image_is_pointed_at_the_replacement() {
    let (text, messages) = run(
        "resources:\n  - deploy.yaml\nimages:\n  - name: postgres\n    newTag: 16-alpine\n  - name: db\n    newName: docker.io/library/postgres\n    newTag: \"15\"\n",
    );
    assert_eq!(
        text,
        "resources:\n  - deploy.yaml\nimages:\n  - name: postgres\n    newTag: \"16\"\n    newName: reg.example.dev/postgres\n  - name: db\n    newName: reg.example.dev/postgres\n    newTag: \"15\"\n"
    );
    assert!(
        has(
            &messages,
            "kustomize-image: `images[postgres]`: `postgres:16-alpine` → `reg.example.dev/postgres:16` (catalog entry `postgres`)"
        ),
        "{messages:?}"
    );
}

#[test]
fn an_entry_whose_tag_comes_from_elsewhere_is_reported_not_guessed() {
    let text = "images:\n  - name: postgres\n    newName: postgres\n  - name: node\n    newTag: \"20\"\n    digest: sha256:0000000000000000000000000000000000000000000000000000000000000000\n  - name: nginx\n    newTag: \"1.27\"\n    tagSuffix: -custom\n";
    let (migrated, messages) = run(text);
    assert_eq!(migrated, text);
    let unresolved: Vec<&String> = messages
        .iter()
        .filter(|m| m.starts_with("unresolved-image"))
        .collect();
    assert_eq!(unresolved.len(), 3, "{messages:?}");
    assert!(
        unresolved[0].contains("the entry has no `newTag`"),
        "{unresolved:?}"
    );
    assert!(
        unresolved[1].contains("pinned by the digest"),
        "{unresolved:?}"
    );
    assert!(
        unresolved[2].contains("`tagSuffix: -custom`"),
        "{unresolved:?}"
    );
}

#[test]
fn unmapped_and_placeholder_names_are_unmapped() {
    let text = "kind: Component\nimages:\n  - name: redis\n    newName: CONTAINER_IMAGES_REGISTRY/redis\n    newTag: \"7\"\n";
    let (migrated, messages) = run(text);
    assert_eq!(migrated, text);
    assert!(
        has(
            &messages,
            "unmapped-image: no catalog entry replaces docker.io/CONTAINER_IMAGES_REGISTRY/redis"
        ),
        "{messages:?}"
    );
}

#[test]
fn an_overlay_gets_an_entry_for_the_name_its_moved_base_now_produces() {
    let dir = tempfile::tempdir().expect("tempdir");
    let write = |path: &str, text: &str| {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    };
    write(
        "base/kustomization.yaml",
        "images:\n  - name: postgres\n    newTag: 15-alpine\n",
    );
    let overlay = "resources: [../base]\nimages:\n  - name: postgres\n    newTag: \"16\"\n";
    write("overlay/kustomization.yaml", overlay);
    let paths = ["base", "overlay"].map(|name| dir.path().join(name).join("kustomization.yaml"));
    let index = crate::kubernetes::Kustomizations::read(
        paths.iter().map(std::path::PathBuf::as_path),
        [],
        1 << 20,
    );
    let view = index.around_kustomization(&paths[1]);
    let catalog = crate::rules::test_support::test_catalog();
    let context = crate::rules::Context::new(&catalog).with_kustomized(&view);
    let (migration, messages) =
        crate::rules::test_support::migrate_twice(FileKind::Kustomization, overlay, context);
    assert_eq!(
        migration.text,
        "resources: [../base]\nimages:\n  - name: postgres\n    newTag: \"16\"\n    newName: reg.example.dev/postgres\n  - name: reg.example.dev/postgres\n    newName: reg.example.dev/postgres\n    newTag: \"16\"\n",
        "the base now produces reg.example.dev/postgres:15, which the added entry matches; the first still matches anything else named postgres"
    );
    assert!(
        messages.iter().any(|m| m.starts_with("kustomize-image: `images[postgres]`: ")
            && m.ends_with("base/kustomization.yaml moves the images it renames to reg.example.dev/postgres, which this entry no longer matches: an entry for `reg.example.dev/postgres` gives them what this one gave")),
        "{messages:?}"
    );
}
