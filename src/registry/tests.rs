use super::*;

#[test]
fn layer_facts_complete_the_config_facts() {
    let mut layers = LayerFacts {
        users: Some([("node".to_owned(), Id("1000".into()))].into()),
        primary_groups: Some([("node".to_owned(), Id("1001".into()))].into()),
        groups: Some([("node".to_owned(), Id("1001".into()))].into()),
        shell: Some(true),
        package_manager: Some(None),
        ..LayerFacts::default()
    };
    let config = ImageSpec {
        user: Some(Id("node".into())),
        ..ImageSpec::default()
    };
    let spec = with_layer_facts(config.clone(), &layers);
    assert_eq!(
        spec.group,
        Some(Id("1001".into())),
        "the primary group of `node`"
    );
    assert_eq!(spec.uid(), Some(1000));
    assert_eq!(spec.shell, Some(true));
    assert_eq!(
        spec.package_manager, None,
        "none found is not a package manager"
    );
    // A group the config names is kept.
    let named = ImageSpec {
        group: Some(Id("0".into())),
        ..config
    };
    assert_eq!(with_layer_facts(named, &layers).group, Some(Id("0".into())));
    layers.primary_groups = None;
    let unknown = ImageSpec {
        user: Some(Id("node".into())),
        ..ImageSpec::default()
    };
    assert_eq!(with_layer_facts(unknown, &layers).group, None);
}

#[test]
fn platforms_parse_and_print() {
    let platform: Platform = "Linux/ARM64/v8".parse().unwrap();
    assert_eq!(platform.to_string(), "linux/arm64/v8");
    assert_eq!(Platform::default().to_string(), "linux/amd64");
    for bad in ["linux", "linux/", "a/b/c/d", "linux/amd 64"] {
        assert!(bad.parse::<Platform>().is_err(), "{bad}");
    }
}

#[test]
fn the_config_states_the_platform() {
    let config = br#"{"architecture":"arm","os":"linux","variant":"v7","rootfs":{"type":"layers","diff_ids":[]}}"#;
    assert_eq!(config_platform(config).unwrap().to_string(), "linux/arm/v7");
    assert_eq!(config_platform(b"[]"), None);
}

#[test]
fn a_registry_can_be_shared_by_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<Registry>();
    shareable::<RegistryError>();
}
