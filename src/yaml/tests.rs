use super::*;
use crate::diagnostic::{Edit, Fix};
use crate::fix::apply_fixes;
use crate::test_random::XorShift;

fn apply(text: &str, edits: Vec<Edit>) -> String {
    let fix = Fix::new(edits).expect("an edit");
    let applied = apply_fixes(text, &[&fix]);
    assert_eq!(applied.applied, [0], "edits of one fix conflict");
    applied.text
}

fn root<'s>(stream: &'s Stream<'_>) -> &'s Node {
    &stream.documents[0].root
}

/// The source text of a node's range.
fn source<'t>(stream: &Stream<'t>, node: &Node) -> &'t str {
    &stream.text()[node.range.clone()]
}

fn entries(pairs: &[(&str, NewValue)]) -> Vec<(String, NewValue)> {
    pairs
        .iter()
        .map(|(key, value)| ((*key).to_owned(), value.clone()))
        .collect()
}

fn replace(text: &str, path: &str, value: NewValue) -> String {
    let stream = parse(text).unwrap();
    let node = root(&stream).lookup(path).expect("path exists");
    apply(text, vec![stream.replace_scalar(node, &value).unwrap()])
}

fn insert(text: &str, path: &str, pairs: &[(&str, NewValue)]) -> String {
    let stream = parse(text).unwrap();
    let node = root(&stream).lookup(path).expect("path exists");
    let result = apply(text, stream.insert_entries(node, &entries(pairs)).unwrap());
    parse(&result).unwrap_or_else(|error| panic!("result does not parse: {error}\n{result}"));
    result
}

#[test]
fn scalars_keys_and_collections_have_exact_ranges() {
    let text = "# head\nprimary:\n  image:\n    registry: docker.io   # trailing\n    tag: \"1.27\"  # why\n  args: ['a', \"b\"]\n";
    let stream = parse(text).unwrap();
    let primary = root(&stream).get("primary").unwrap();
    assert_eq!(
        primary.as_mapping().unwrap().layout,
        Layout::Block {
            indent: 2,
            append_at: text.len()
        }
    );
    let image = primary.get("image").unwrap();
    let registry = image.get("registry").unwrap();
    assert_eq!(source(&stream, registry), "docker.io");
    let tag = image.get("tag").unwrap();
    assert_eq!(source(&stream, tag), "\"1.27\"");
    assert_eq!(tag.as_scalar().unwrap().style, ScalarStyle::DoubleQuoted);
    assert_eq!(tag.value(), Some("1.27"));
    let entry = &image.entries()[0];
    assert_eq!(&text[entry.key.range.clone()], "registry");
    assert_eq!(&text[entry.range()], "registry: docker.io");
    let args = primary.get("args").unwrap();
    assert_eq!(source(&stream, args), "['a', \"b\"]");
    assert_eq!(args.as_sequence().unwrap().layout, Layout::Flow);
    assert_eq!(source(&stream, &args.items()[0]), "'a'");
    assert!(args.items()[0].as_scalar().unwrap().in_flow);
    assert!(!tag.as_scalar().unwrap().in_flow);
}

#[test]
fn paths_are_dotted_with_indexes_and_read_back() {
    let text = "primary:\n  containerSecurityContext:\n    runAsUser: 1001\nextraVolumeMounts:\n  - name: data\n    mountPath: /data\nfiles:\n  config.yaml: x\n";
    let stream = parse(text).unwrap();
    let document = &stream.documents[0];
    let mut paths = Vec::new();
    document.visit(&mut |path, node| {
        if node.as_scalar().is_some() {
            paths.push(path.to_string());
        }
    });
    assert_eq!(
        paths,
        [
            "primary.containerSecurityContext.runAsUser",
            "extraVolumeMounts[0].name",
            "extraVolumeMounts[0].mountPath",
            "files.config\\.yaml"
        ]
    );
    for path in &paths {
        let node = document.root.lookup(path).unwrap();
        assert_eq!(document.path_of(node).as_deref(), Some(path.as_str()));
    }
    assert_eq!(
        document
            .root
            .lookup("extraVolumeMounts[0].mountPath")
            .and_then(Node::value),
        Some("/data")
    );
    assert!(document.root.lookup("extraVolumeMounts[1]").is_none());
    assert!(document.root.lookup("extraVolumeMounts[x]").is_none());
    assert!(std::ptr::eq(
        document.root.lookup("").unwrap(),
        &document.root
    ));
}

#[test]
fn crlf_ranges_are_exact_and_new_lines_use_crlf() {
    let text = "a:\r\n  b: 1\r\n  c: 'x'\r\nd: 2\r\n";
    let stream = parse(text).unwrap();
    assert_eq!(source(&stream, root(&stream).lookup("a.c").unwrap()), "'x'");
    assert_eq!(root(&stream).lookup("d").and_then(Node::value), Some("2"));
    let inserted = insert(text, "a", &[("e", NewValue::int(3))]);
    assert_eq!(inserted, "a:\r\n  b: 1\r\n  c: 'x'\r\n  e: 3\r\nd: 2\r\n");
    assert_eq!(
        replace(text, "a.c", NewValue::string("y")),
        "a:\r\n  b: 1\r\n  c: 'y'\r\nd: 2\r\n"
    );
}

#[test]
fn a_byte_order_mark_and_multi_byte_characters_shift_every_range() {
    let text = "\u{feff}é: \"ü\"\nb: ok\n";
    let stream = parse(text).unwrap();
    let entry = &root(&stream).entries()[0];
    assert_eq!(&text[entry.key.range.clone()], "é");
    assert_eq!(&text[entry.value.range.clone()], "\"ü\"");
    assert_eq!(source(&stream, root(&stream).get("b").unwrap()), "ok");
    assert_eq!(
        replace(text, "b", NewValue::string("ß")),
        "\u{feff}é: \"ü\"\nb: ß\n"
    );
}

/// Found by the `yaml` fuzz target (docs/fuzzing.md): a byte-order mark counted as a column,
/// so keys added to the top-level mapping of a file with one were indented by a space and
/// became part of the last entry's value.
#[test]
fn a_byte_order_mark_is_not_a_column() {
    assert_eq!(
        insert("\u{feff}a:\n  b: 1\n", "", &[("c", NewValue::int(2))]),
        "\u{feff}a:\n  b: 1\nc: 2\n"
    );
}

#[test]
fn tabs_in_comments_and_quoted_scalars_before_comments() {
    let text = "a: 'it''s'\t# tab\tcomment\nb: \"q\\\"\"  # c\n\t# indented by a tab\nc: x\t#\t\n";
    let stream = parse(text).unwrap();
    assert_eq!(source(&stream, root(&stream).get("a").unwrap()), "'it''s'");
    assert_eq!(root(&stream).get("a").and_then(Node::value), Some("it's"));
    assert_eq!(
        source(&stream, root(&stream).get("b").unwrap()),
        "\"q\\\"\""
    );
    assert_eq!(source(&stream, root(&stream).get("c").unwrap()), "x");
    let replaced = replace(text, "b", NewValue::string("x\"y"));
    assert_eq!(
        replaced,
        "a: 'it''s'\t# tab\tcomment\nb: \"x\\\"y\"  # c\n\t# indented by a tab\nc: x\t#\t\n"
    );
}

#[test]
fn every_document_of_a_stream_is_read() {
    let text = "a: 1\n---\n# second\nb: &x 2\n...\n--- plain\n";
    let stream = parse(text).unwrap();
    assert_eq!(stream.documents.len(), 3);
    assert_eq!(
        stream.documents[1].root.get("b").and_then(Node::value),
        Some("2")
    );
    assert_eq!(stream.documents[2].root.value(), Some("plain"));
    let b = stream.documents[1].root.get("b").unwrap();
    let edited = apply(
        text,
        vec![stream.replace_scalar(b, &NewValue::int(3)).unwrap()],
    );
    assert_eq!(edited, "a: 1\n---\n# second\nb: &x 3\n...\n--- plain\n");
    let inserted = apply(
        text,
        stream
            .insert_entries(
                &stream.documents[1].root,
                &entries(&[("c", NewValue::bool(true))]),
            )
            .unwrap(),
    );
    assert_eq!(
        inserted,
        "a: 1\n---\n# second\nb: &x 2\nc: true\n...\n--- plain\n"
    );
    assert!(parse("# only a comment\n").unwrap().documents.is_empty());
}

#[test]
fn anchors_aliases_and_merge_keys() {
    let text = "base: &base\n  user: &uid 1001\nprimary:\n  <<: *base\n  user: *uid\n";
    let stream = parse(text).unwrap();
    let document = &stream.documents[0];
    let base = document.root.get("base").unwrap();
    let anchor = base.anchor().unwrap();
    assert_eq!(
        (anchor.text.as_str(), &text[anchor.range.clone()]),
        ("base", "&base")
    );
    assert_eq!(&text[base.range.clone()], "user: &uid 1001");
    let user = base.get("user").unwrap();
    assert_eq!(source(&stream, user), "1001");
    assert_eq!(&text[user.full_range()], "&uid 1001");

    let primary = document.root.get("primary").unwrap();
    assert!(primary.entries()[0].is_merge());
    let merged = &primary.entries()[0].value;
    assert_eq!(
        merged.kind,
        NodeKind::Alias(Alias {
            name: "base".into()
        })
    );
    assert_eq!(source(&stream, merged), "*base");
    assert!(std::ptr::eq(document.resolve_alias(merged).unwrap(), base));
    let alias = primary.get("user").unwrap();
    assert!(std::ptr::eq(document.resolve_alias(alias).unwrap(), user));
    assert!(primary.get("missing").is_none());

    let through_alias = stream.replace_scalar(alias, &NewValue::int(65532));
    assert_eq!(through_alias, Err(EditError::Alias { name: "uid".into() }));
    assert!(matches!(
        stream.insert_entries(merged, &[]),
        Err(EditError::Alias { .. })
    ));
    let once = apply(
        text,
        vec![stream.replace_scalar(user, &NewValue::int(65532)).unwrap()],
    );
    assert_eq!(
        once,
        "base: &base\n  user: &uid 65532\nprimary:\n  <<: *base\n  user: *uid\n"
    );

    let mut visited = 0;
    document.visit(&mut |_, _| visited += 1);
    assert_eq!(visited, 6, "aliases are visited as nodes, never followed");
}

#[test]
fn tagged_nodes_keep_their_tag() {
    let text = "a: !!str 1001\nb: !custom\n  c: d\n";
    let stream = parse(text).unwrap();
    let a = root(&stream).get("a").unwrap();
    assert_eq!(a.tag().map(|tag| tag.text.as_str()), Some("!!str"));
    assert_eq!(source(&stream, a), "1001");
    assert_eq!(
        root(&stream).get("b").unwrap().tag().unwrap().text,
        "!custom"
    );
    assert_eq!(
        replace(text, "a", NewValue::string("2002")),
        "a: !!str \"2002\"\nb: !custom\n  c: d\n"
    );
}

#[test]
fn flow_collections() {
    let text = "a: {x: 1, y: [1, \"2\"], z: {}}\nb: [ 'p' , q ]   # c\n";
    let stream = parse(text).unwrap();
    let a = root(&stream).get("a").unwrap();
    assert_eq!(source(&stream, a), "{x: 1, y: [1, \"2\"], z: {}}");
    assert_eq!(a.as_mapping().unwrap().layout, Layout::Flow);
    assert_eq!(source(&stream, a.get("y").unwrap()), "[1, \"2\"]");
    assert_eq!(
        source(&stream, root(&stream).get("b").unwrap()),
        "[ 'p' , q ]"
    );
    assert_eq!(
        replace(text, "a.x", NewValue::string("p,q")),
        "a: {x: \"p,q\", y: [1, \"2\"], z: {}}\nb: [ 'p' , q ]   # c\n"
    );
    assert_eq!(
        replace(text, "b[1]", NewValue::string("r")),
        "a: {x: 1, y: [1, \"2\"], z: {}}\nb: [ 'p' , r ]   # c\n"
    );
    let added = insert(
        text,
        "a",
        &[
            ("w", NewValue::string("v")),
            ("m", NewValue::Mapping(entries(&[("k", NewValue::int(1))]))),
        ],
    );
    assert_eq!(
        added,
        "a: {x: 1, y: [1, \"2\"], z: {}, w: v, m: {k: 1}}\nb: [ 'p' , q ]   # c\n"
    );
    assert_eq!(
        insert(text, "a.z", &[("k", NewValue::string("v"))]),
        "a: {x: 1, y: [1, \"2\"], z: {k: v}}\nb: [ 'p' , q ]   # c\n"
    );
}

#[test]
fn block_scalars_start_at_their_header_and_are_not_edited() {
    let text = "a: |\n  one\n  two\nb: >-\n  folded\n  text\n\nc: |2\n   indented\nd: &x |\n  anchored\ne:\n  - |\n    item\n";
    let stream = parse(text).unwrap();
    let document = root(&stream);
    assert_eq!(
        source(&stream, document.get("a").unwrap()),
        "|\n  one\n  two"
    );
    assert_eq!(document.get("a").and_then(Node::value), Some("one\ntwo\n"));
    assert_eq!(
        source(&stream, document.get("b").unwrap()),
        ">-\n  folded\n  text"
    );
    assert_eq!(document.get("b").and_then(Node::value), Some("folded text"));
    assert_eq!(
        document.get("b").unwrap().as_scalar().unwrap().style,
        ScalarStyle::Folded
    );
    assert_eq!(
        source(&stream, document.get("c").unwrap()),
        "|2\n   indented"
    );
    assert_eq!(document.get("c").and_then(Node::value), Some(" indented\n"));
    assert_eq!(source(&stream, document.get("d").unwrap()), "|\n  anchored");
    assert_eq!(
        source(&stream, document.lookup("e[0]").unwrap()),
        "|\n    item"
    );
    let refused = stream.replace_scalar(document.get("a").unwrap(), &NewValue::string("x"));
    assert!(matches!(refused, Err(EditError::NotEditable(_))));
    assert_eq!(parse("|\n  top\n").unwrap().documents[0].root.range, 0..7);
}

#[test]
fn a_new_entry_after_a_kept_block_scalar_keeps_its_blank_lines() {
    let text = "a:\n  b: |+\n    kept\n\n\nc: 1\n";
    assert_eq!(
        insert(text, "a", &[("d", NewValue::int(2))]),
        "a:\n  b: |+\n    kept\n\n\n  d: 2\nc: 1\n"
    );
}

#[test]
fn empty_values_are_filled_after_their_colon() {
    let text = "a:\nb: # nothing yet\nc: &x\nseq:\n- \n";
    let stream = parse(text).unwrap();
    let a = root(&stream).get("a").unwrap();
    assert_eq!(a.range, 2..2);
    assert_eq!(a.value(), Some(""));
    assert_eq!(
        replace(text, "a", NewValue::int(1)),
        "a: 1\nb: # nothing yet\nc: &x\nseq:\n- \n"
    );
    assert_eq!(
        replace(text, "b", NewValue::string("yes")),
        "a:\nb: \"yes\" # nothing yet\nc: &x\nseq:\n- \n"
    );
    assert_eq!(
        replace(text, "c", NewValue::string("v")),
        "a:\nb: # nothing yet\nc: &x v\nseq:\n- \n"
    );
    assert_eq!(
        replace(text, "seq[0]", NewValue::string("v")),
        "a:\nb: # nothing yet\nc: &x\nseq:\n- v\n"
    );
    let implicit = parse("{a, b: 1}").unwrap();
    let refused =
        implicit.replace_scalar(root(&implicit).get("a").unwrap(), &NewValue::string("v"));
    assert!(matches!(refused, Err(EditError::NotEditable(_))));
}

#[test]
fn quoted_keys_are_found_by_value() {
    let text = "\"quoted key\": 1\n'it''s': 2\n\"image\":\n  tag: x\n";
    let stream = parse(text).unwrap();
    let document = root(&stream);
    assert_eq!(document.get("quoted key").and_then(Node::value), Some("1"));
    assert_eq!(document.get("it's").and_then(Node::value), Some("2"));
    assert_eq!(
        document.entries()[0].key.as_scalar().unwrap().style,
        ScalarStyle::DoubleQuoted
    );
    assert_eq!(&text[document.entries()[1].key.range.clone()], "'it''s'");
    assert_eq!(
        document.lookup("image.tag").and_then(Node::value),
        Some("x")
    );
    let complex = parse("? [a, b]\n: v\n").unwrap();
    assert_eq!(
        complex.documents[0]
            .path_of(&root(&complex).entries()[0].value)
            .as_deref(),
        Some("?")
    );
}

#[test]
fn replacements_keep_the_style_and_type() {
    let text = "plain: latest\nuser: 1001\nsingle: 'a'\ndouble: \"b\"\n";
    let cases = [
        ("plain", NewValue::string("1.27.3"), "plain: 1.27.3\n"),
        ("plain", NewValue::string("1.10"), "plain: \"1.10\"\n"),
        ("plain", NewValue::string("on"), "plain: \"on\"\n"),
        ("plain", NewValue::string("a: b"), "plain: \"a: b\"\n"),
        (
            "plain",
            NewValue::string("line\nbreak"),
            "plain: \"line\\nbreak\"\n",
        ),
        ("user", NewValue::int(65532), "user: 65532\n"),
        ("user", NewValue::string("65532"), "user: \"65532\"\n"),
        ("single", NewValue::string("it's"), "single: 'it''s'\n"),
        (
            "single",
            NewValue::string("two\nlines"),
            "single: \"two\\nlines\"\n",
        ),
        ("single", NewValue::int(7), "single: '7'\n"),
        (
            "double",
            NewValue::string("say \"hi\" \\o/"),
            "double: \"say \\\"hi\\\" \\\\o/\"\n",
        ),
    ];
    for (key, value, line) in cases {
        let replaced = replace(text, key, value);
        assert!(replaced.contains(line), "{key}: {replaced}");
        let read = parse(&replaced).unwrap();
        assert!(root(&read).get(key).is_some());
    }
    let stream = parse(text).unwrap();
    let plain = root(&stream).get("plain").unwrap();
    assert_eq!(
        stream.replace_scalar(plain, &NewValue::Native("a: b".into())),
        Err(EditError::InvalidNative("a: b".into()))
    );
    assert!(matches!(
        stream.replace_scalar(plain, &NewValue::Mapping(Vec::new())),
        Err(EditError::NotEditable(_))
    ));
    assert!(matches!(
        stream.replace_scalar(root(&stream), &NewValue::int(1)),
        Err(EditError::NotEditable(_))
    ));
}

#[test]
fn a_multi_line_scalar_is_replaced_whole() {
    let text = "a: first\n  second\nb: \"one\n  two\"\nc: 1\n";
    let stream = parse(text).unwrap();
    assert_eq!(
        root(&stream).get("a").and_then(Node::value),
        Some("first second")
    );
    assert_eq!(
        source(&stream, root(&stream).get("b").unwrap()),
        "\"one\n  two\""
    );
    assert_eq!(
        replace(text, "a", NewValue::string("x")),
        "a: x\nb: \"one\n  two\"\nc: 1\n"
    );
    assert_eq!(
        replace(text, "b", NewValue::string("one two")),
        "a: first\n  second\nb: \"one two\"\nc: 1\n"
    );
}

#[test]
fn new_keys_go_at_the_mapping_indentation_before_the_next_keys_comments() {
    let text = "primary:\n  image:\n    repository: nginx\n    # pullPolicy: Always\n\n  ## @param primary.resources\n  resources: {}\n";
    let added = insert(
        text,
        "primary.image",
        &[
            ("registry", NewValue::string("cgr.dev")),
            ("tag", NewValue::string("1.10")),
        ],
    );
    assert_eq!(
        added,
        "primary:\n  image:\n    repository: nginx\n    # pullPolicy: Always\n    registry: cgr.dev\n    tag: \"1.10\"\n\n  ## @param primary.resources\n  resources: {}\n"
    );
    let nested = insert(
        text,
        "",
        &[(
            "global",
            NewValue::Mapping(entries(&[(
                "security",
                NewValue::Mapping(entries(&[("allowInsecureImages", NewValue::bool(true))])),
            )])),
        )],
    );
    assert!(
        nested.ends_with("  resources: {}\nglobal:\n  security:\n    allowInsecureImages: true\n"),
        "{nested}"
    );
}

#[test]
fn new_keys_follow_the_file_indentation_step() {
    let text = "a:\n    b: 1\n    c: {}\n";
    assert_eq!(
        insert(text, "a.c", &[("d", NewValue::int(2))]),
        "a:\n    b: 1\n    c:\n        d: 2\n"
    );
    let in_sequence = "items:\n  - name: x\n    securityContext: {}\n";
    assert_eq!(
        insert(
            in_sequence,
            "items[0].securityContext",
            &[("runAsUser", NewValue::int(1))]
        ),
        "items:\n  - name: x\n    securityContext:\n      runAsUser: 1\n"
    );
}

#[test]
fn a_text_without_a_final_line_break_keeps_it_missing() {
    assert_eq!(insert("a: 1", "", &[("b", NewValue::int(2))]), "a: 1\nb: 2");
    assert_eq!(
        insert("a: {}", "a", &[("b", NewValue::int(2))]),
        "a:\n  b: 2"
    );
}

#[test]
fn an_empty_flow_mapping_becomes_a_block_keeping_its_comments() {
    let text = "podSecurityContext: {}  # pod level\n## @param next\nsecurityContext: {}\n  # capabilities:\n  #   drop: [ALL]\n\nresources: {}\n";
    let pod = insert(
        text,
        "podSecurityContext",
        &[("fsGroup", NewValue::int(65532))],
    );
    assert_eq!(
        pod,
        "podSecurityContext:  # pod level\n  fsGroup: 65532\n## @param next\nsecurityContext: {}\n  # capabilities:\n  #   drop: [ALL]\n\nresources: {}\n"
    );
    let container = insert(
        text,
        "securityContext",
        &[
            ("runAsUser", NewValue::int(65532)),
            ("runAsNonRoot", NewValue::bool(true)),
        ],
    );
    assert_eq!(
        container,
        "podSecurityContext: {}  # pod level\n## @param next\nsecurityContext:\n  # capabilities:\n  #   drop: [ALL]\n  runAsUser: 65532\n  runAsNonRoot: true\n\nresources: {}\n"
    );
    let anchored = insert(
        "a: &ctx {}\nb: *ctx\n",
        "a",
        &[("k", NewValue::string("v"))],
    );
    assert_eq!(anchored, "a: &ctx\n  k: v\nb: *ctx\n");
    let spaced = insert("a:\n  b: { }\n", "a.b", &[("k", NewValue::string("v"))]);
    assert_eq!(spaced, "a:\n  b:\n    k: v\n");
}

#[test]
fn an_empty_flow_mapping_finds_its_block_parent_in_any_document() {
    let text = "a: {}\n---\nlist:\n  - x: 1\n    ctx: !!map {}\n    flow: {in: {}}\n";
    let stream = parse(text).unwrap();
    let item = &stream.documents[1].root.get("list").unwrap().items()[0];
    let pairs = entries(&[("k", NewValue::string("v"))]);
    let block = stream.insert_entries(item.get("ctx").unwrap(), &pairs);
    assert_eq!(
        apply(text, block.unwrap()),
        "a: {}\n---\nlist:\n  - x: 1\n    ctx: !!map\n      k: v\n    flow: {in: {}}\n"
    );
    let nested = item.get("flow").and_then(|flow| flow.get("in")).unwrap();
    assert_eq!(
        apply(text, stream.insert_entries(nested, &pairs).unwrap()),
        "a: {}\n---\nlist:\n  - x: 1\n    ctx: !!map {}\n    flow: {in: {k: v}}\n"
    );
}

#[test]
fn new_keys_are_quoted_when_they_would_read_otherwise() {
    let added = insert(
        "a: 1\n",
        "",
        &[
            ("on", NewValue::string("x")),
            ("k: v", NewValue::string("")),
            ("<<", NewValue::int(1)),
        ],
    );
    assert_eq!(added, "a: 1\n\"on\": x\n\"k: v\": \"\"\n\"<<\": 1\n");
}

#[test]
fn keys_can_only_be_added_to_mappings() {
    let stream = parse("a: [1]\n").unwrap();
    let sequence = root(&stream).get("a").unwrap();
    assert!(matches!(
        stream.insert_entries(sequence, &[]),
        Err(EditError::NotEditable(_))
    ));
    let native = stream.insert_entries(
        root(&stream),
        &entries(&[("b", NewValue::Native("[x".into()))]),
    );
    assert_eq!(native, Err(EditError::InvalidNative("[x".into())));
}

#[test]
fn block_collections_know_their_column_and_append_point() {
    let text = "list:\n- a\n- b\n# about map\nmap:\n  k: v\n    # deeper\n  # same\n# shallower\n";
    let stream = parse(text).unwrap();
    let list = root(&stream).get("list").unwrap();
    assert_eq!(
        list.as_sequence().unwrap().layout,
        Layout::Block {
            indent: 0,
            append_at: 14
        }
    );
    assert_eq!(source(&stream, list), "- a\n- b");
    let map = root(&stream).get("map").unwrap();
    let Layout::Block { indent, append_at } = map.as_mapping().unwrap().layout else {
        panic!("block")
    };
    assert_eq!(indent, 2);
    assert_eq!(&text[append_at..], "# shallower\n");
}

#[test]
fn syntax_errors_carry_their_line() {
    for (text, line) in [
        ("a: 1\nb: c: d\n", 2),
        ("a:\n\tb: 1\n", 2),
        ("a: *nowhere\n", 1),
        ("a: [1, 2\n", 2),
        ("a: 'open\n", 1),
        ("]\n", 1),
    ] {
        let error = parse(text).expect_err(text);
        assert_eq!(error.line, Some(line), "{text:?}: {error}");
        assert!(!error.message.is_empty());
    }
}

#[test]
fn a_flow_end_at_the_parent_indentation_is_read_as_helm_reads_it() {
    let text =
        "vault:\n  server:\n    args: [\n      \"server\",\n      \"-dev\"\n    ]\n    other: 1\n";
    let stream = parse(text).unwrap();
    let args = root(&stream).lookup("vault.server.args").unwrap();
    assert_eq!(
        source(&stream, args),
        "[\n      \"server\",\n      \"-dev\"\n    ]"
    );
    assert_eq!(source(&stream, &args.items()[1]), "\"-dev\"");
    assert_eq!(
        root(&stream)
            .lookup("vault.server.other")
            .and_then(Node::value),
        Some("1")
    );
    let far = "a:\n  b:\n    c: [\n\"x\"\n]\n    d: é\n";
    let stream = parse(far).unwrap();
    assert_eq!(
        source(&stream, root(&stream).lookup("a.b.c[0]").unwrap()),
        "\"x\""
    );
    assert_eq!(source(&stream, root(&stream).lookup("a.b.d").unwrap()), "é");
    assert!(
        parse("a:\n  b: 1\n c: 2\n").is_err(),
        "block indentation stays strict"
    );
}

#[test]
fn scalar_types_follow_yaml_1_1_and_1_2() {
    let stream = parse("a: 1.10\nb: '1.10'\nc: yes\nd: nginx\ne: |\n  1\n").unwrap();
    let is_string = |key: &str| {
        root(&stream)
            .get(key)
            .unwrap()
            .as_scalar()
            .unwrap()
            .is_string()
    };
    assert_eq!(
        ["a", "b", "c", "d", "e"].map(is_string),
        [false, true, false, true, true]
    );
}

#[test]
fn broken_variants_of_a_rich_text_never_panic() {
    let text = "\u{feff}# c\r\na: &a {x: [1, \"2\"], y: 'z'}\r\nb: *a\r\nc: |+\r\n  é\r\n\r\nd:\r\n- - e\r\n  - ? f\r\n    : g\r\n---\r\nh: !!str >-\r\n  i\r\n";
    parse(text).unwrap();
    let significant = b"\"'{}[],:-?#&*!|>% \t\n\rx0";
    let mut random = XorShift::new(0x2545_f491_4f6c_dd1d);
    for cut in (0..=text.len()).filter(|&cut| text.is_char_boundary(cut)) {
        check_ranges(&text[..cut]);
    }
    for _ in 0..3000 {
        let mut bytes = text.as_bytes().to_vec();
        for _ in 0..1 + random.below(3) {
            let at = random.below(bytes.len());
            if bytes[at].is_ascii() {
                bytes[at] = significant[random.below(significant.len())];
            }
        }
        check_ranges(std::str::from_utf8(&bytes).unwrap());
    }
}

/// Parses `text` and, when it is accepted, checks every range lies in it on char boundaries.
fn check_ranges(text: &str) {
    fn walk(text: &str, node: &Node) {
        let range = node.full_range();
        assert!(
            range.end <= text.len()
                && text.is_char_boundary(range.start)
                && text.is_char_boundary(range.end),
            "{text:?}: {range:?}"
        );
        for entry in node.entries() {
            walk(text, &entry.key);
            walk(text, &entry.value);
        }
        node.items().iter().for_each(|item| walk(text, item));
    }
    if let Ok(stream) = parse(text) {
        stream
            .documents
            .iter()
            .for_each(|document| walk(text, &document.root));
    }
}

#[test]
fn a_pair_inside_a_flow_sequence_is_a_flow_mapping_without_braces() {
    let text = "a: [x, k: v, ? e]\n";
    let stream = parse(text).unwrap();
    let pair = &root(&stream).get("a").unwrap().items()[1];
    assert_eq!(pair.as_mapping().unwrap().layout, Layout::Flow);
    assert_eq!(source(&stream, pair), "k: v");
    assert!(matches!(
        stream.insert_entries(pair, &entries(&[("n", NewValue::int(1))])),
        Err(EditError::NotEditable(_))
    ));
    let explicit = &root(&stream).get("a").unwrap().items()[2];
    assert_eq!(explicit.entries()[0].key.value(), Some("e"));
}

#[test]
fn explicit_and_empty_keys_place_their_empty_nodes_at_their_indicator() {
    let text = "m:\n  ? k\n  ? \n  : v\nn:   # c\nl:\n- x\n";
    let stream = parse(text).unwrap();
    let m = root(&stream).get("m").unwrap();
    let first = &m.entries()[0];
    assert_eq!(
        (first.key.value(), first.value.range.clone()),
        (Some("k"), 8..8)
    );
    let second = &m.entries()[1];
    assert_eq!(
        (second.key.range.clone(), source(&stream, &second.value)),
        (12..12, "v")
    );
    assert_eq!(
        m.as_mapping().unwrap().layout,
        Layout::Block {
            indent: 2,
            append_at: 20
        }
    );
    assert_eq!(
        replace(text, "n", NewValue::string("w")),
        "m:\n  ? k\n  ? \n  : v\nn: w   # c\nl:\n- x\n"
    );
}

#[test]
fn a_lone_carriage_return_breaks_lines_too() {
    let text = "a:\r  b: 1\rc: 2\r";
    let stream = parse(text).unwrap();
    assert_eq!(root(&stream).lookup("a.b").and_then(Node::value), Some("1"));
    assert_eq!(
        insert(text, "a", &[("d", NewValue::int(3))]),
        "a:\r  b: 1\r  d: 3\rc: 2\r"
    );
}

#[test]
fn nesting_is_read_to_the_depth_limit_and_refused_past_it() {
    // `- ` opens a block sequence per level: two bytes a level, no indentation needed.
    let at_limit = format!("{}x\n", "- ".repeat(build::MAX_DEPTH));
    let stream = parse(&at_limit).unwrap();
    let mut depth = 0;
    let mut node = root(&stream);
    while let Some(item) = node.items().first() {
        depth += 1;
        node = item;
    }
    assert_eq!((depth, node.value()), (build::MAX_DEPTH, Some("x")));

    let past = format!("a: 1\nb:\n{}x\n", "- ".repeat(build::MAX_DEPTH));
    let error = parse(&past).unwrap_err();
    assert_eq!(error.line, Some(3));
    assert!(error.message.contains("nested more than 1000"), "{error}");

    // Flow collections stop earlier, in the parser itself.
    let flow = format!("a: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
    assert_eq!(parse(&flow).unwrap_err().line, Some(1));
}

#[test]
fn nodes_are_read_to_the_budget_and_refused_past_it() {
    // Keys, values and collections each count: a mapping, two keys, a scalar, a sequence and
    // its item are 6 nodes.
    let text = "a: 1\nb: [2]\n";
    assert!(parse_at_most(text, 6).is_ok());
    let error = parse_at_most(text, 5).unwrap_err();
    assert_eq!(error.line, Some(2));
    assert_eq!(
        error.message,
        "more than 5 nodes (hardport's per-file limit)"
    );
    // Nested flow collections were the cheapest nodes to write, and the dearest to keep: each
    // held room for four children (a 7 MB file took 2 GB).
    let brackets = format!("a: [{}]\n", "[[]], ".repeat(10_000));
    assert!(parse_at_most(&brackets, 20_003).is_ok());
    assert!(parse_at_most(&brackets, 20_002).is_err());
    assert_eq!(MAX_NODES, 2_000_000);
}

/// The anchored node an alias names, found the slow way: every node in document order.
fn resolve_by_walking<'d>(document: &'d Document, alias: &Node) -> Option<&'d Node> {
    let NodeKind::Alias(Alias { name }) = &alias.kind else {
        return None;
    };
    let mut target = None;
    document.root.each_node(&mut |node| {
        let named = node.anchor().is_some_and(|anchor| &anchor.text == name);
        if named && node.range.start < alias.range.start {
            target = Some(node);
        }
    });
    target
}

#[test]
fn aliases_resolve_to_the_last_anchor_of_their_name_before_them() {
    let text = "\
a: &x 1
b: *x
c: &x {k: &y [1, &x two, *x], j: *y}
d:
  - *x
  - &x
    e: &z f
  - *x
  - ? &k key
    : *z
  - *k
g: &empty
h: *empty
---
b: &x 3
c: *x
";
    let stream = parse(text).unwrap();
    let mut resolved = Vec::new();
    for document in &stream.documents {
        document.root.each_node(&mut |node| {
            if matches!(node.kind, NodeKind::Alias(_)) {
                let fast = document.resolve_alias(node);
                let slow = resolve_by_walking(document, node);
                assert_eq!(
                    fast.map(|node| node as *const Node),
                    slow.map(|node| node as *const Node),
                    "{}",
                    source(&stream, node)
                );
                resolved.push(fast.map(|target| &text[target.full_range()]));
            }
        });
    }
    assert_eq!(
        resolved,
        [
            Some("&x 1"),
            Some("&x two"),
            Some("&y [1, &x two, *x]"),
            // The `&x` inside `c` comes after the one that starts `c`.
            Some("&x two"),
            Some("&x\n    e: &z f"),
            Some("&z f"),
            Some("&k key"),
            Some("&empty"),
            Some("&x 3"),
        ]
    );
}

#[test]
fn a_billion_laughs_stays_the_size_of_its_text() {
    // Nine levels of nine aliases: 9^9 (387 million) leaves if aliases were expanded.
    let mut text = String::from("l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for level in 1..10 {
        let refs = vec![format!("*l{}", level - 1); 9].join(", ");
        text.push_str(&format!("l{level}: &l{level} [{refs}]\n"));
    }
    let stream = parse(&text).unwrap();
    let document = &stream.documents[0];
    let mut nodes = 0;
    document.visit(&mut |_, _| nodes += 1);
    // The root, ten keys' sequences, nine scalars and 81 aliases: the text, not its expansion.
    assert_eq!(nodes, 1 + 10 + 9 + 81);
    let last = root(&stream).get("l9").unwrap();
    let target = document.resolve_alias(&last.items()[0]).unwrap();
    assert_eq!(target.anchor().unwrap().text, "l8");
}

#[test]
fn many_aliases_resolve_without_walking_the_tree_for_each() {
    // 50 000 aliases over a tree of 100 000 nodes: a walk per alias would visit 5 billion.
    let mut text = String::from("base: &base {repository: nginx, tag: '1.27'}\n");
    for index in 0..50_000 {
        text.push_str(&format!("c{index}:\n  image: *base\n"));
    }
    let stream = parse(&text).unwrap();
    let document = &stream.documents[0];
    let base = root(&stream).get("base").unwrap();
    let started = std::time::Instant::now();
    for entry in &root(&stream).entries()[1..] {
        let alias = entry.value.get("image").unwrap();
        assert!(std::ptr::eq(document.resolve_alias(alias).unwrap(), base));
    }
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

/// Found by the `yaml` fuzz target (docs/fuzzing.md): at the end of a text the parser counted
/// one line more than the text has, so the error pointed past the last line.
#[test]
fn an_error_at_the_end_of_the_text_is_on_its_last_line() {
    for (text, line) in [
        (":\ng", 2),
        ("a:\nb", 2),
        ("a: [1, 2", 1),
        ("a: 1\n:\ng", 3),
    ] {
        let error = parse(text).expect_err(text);
        assert_eq!(error.line, Some(line), "{text:?}: {error}");
    }
}

/// Found by the `yaml` fuzz target (docs/fuzzing.md): a property of a block mapping's first
/// key was read as the mapping's own when the mapping had the other kind of property, so the
/// mapping started after it and new keys went to the wrong column.
#[test]
fn a_first_keys_tag_or_anchor_is_the_keys_not_its_mappings() {
    let text = "base: &b\n  !!str image: nginx\n";
    let stream = parse(text).unwrap();
    let base = root(&stream).get("base").unwrap();
    assert_eq!(base.anchor().unwrap().text, "b");
    assert_eq!(base.tag(), None);
    assert_eq!(source(&stream, base), "!!str image: nginx");
    let key = &base.entries()[0].key;
    assert_eq!(key.tag().unwrap().text, "!!str");
    assert_eq!(
        insert(text, "base", &[("tag", NewValue::string("1.27"))]),
        "base: &b\n  !!str image: nginx\n  tag: \"1.27\"\n"
    );
    let text = "other: !m\n  &k key: v\n";
    let stream = parse(text).unwrap();
    let other = root(&stream).get("other").unwrap();
    assert_eq!(other.tag().unwrap().text, "!m");
    assert_eq!(other.anchor(), None);
    assert_eq!(other.entries()[0].key.anchor().unwrap().text, "k");
    let text = "&a\n! :\n";
    let stream = parse(text).unwrap();
    let mapping = root(&stream);
    let key = &mapping.entries()[0].key;
    assert_eq!(key.tag().unwrap().text, "!");
    assert!(
        mapping.range.start <= key.full_range().start,
        "{:?}",
        mapping.range
    );
}

/// Found by the `yaml` fuzz target (docs/fuzzing.md): a block sequence that is an explicit key
/// on the line after its `?` starts after its first `-` (the parser's span) and gets that
/// column as its indentation.
#[test]
fn a_sequence_key_below_its_question_mark_starts_at_its_dash() {
    let text = "?\n- a\n: b\n";
    let stream = parse(text).unwrap();
    let key = &root(&stream).entries()[0].key;
    assert_eq!(source(&stream, key), "- a");
    let Layout::Block { indent, .. } = key.as_sequence().unwrap().layout else {
        panic!("block")
    };
    assert_eq!(indent, 0);
}

/// Found by the `yaml` fuzz target (docs/fuzzing.md): the empty value of an explicit key
/// without a value indicator (`?`, `? a:`, `{?}`, or `?` followed by the next entry's key `:`)
/// is placed at the end of the key or after the next entry's `:`, so setting it wrote into a
/// key. No rule edits such values: the edit layer refuses every edit in or next to an entry
/// with an explicit key, and to the mapping holding it.
#[test]
fn the_empty_value_of_an_explicit_key_is_not_written_into_the_key() {
    for text in [
        "? a:\n",
        "?\n",
        "?\n::",
        "? a\n: b\n",
        "x: 1\n? a\n",
        "{? a, x: 1}",
        "{x, ? }",
    ] {
        let stream = parse(text).unwrap();
        let mapping = root(&stream);
        let explicit = mapping
            .entries()
            .iter()
            .find(|entry| entry.key.value() != Some("x"));
        let value = &explicit.expect("an explicit entry").value;
        let refused = stream.replace_scalar(value, &NewValue::string("v"));
        assert!(refused.is_err(), "{text:?}: {refused:?}");
        let refused = stream.insert_entries(mapping, &[("y".into(), NewValue::int(1))]);
        assert!(refused.is_err(), "{text:?}: {refused:?}");
    }
    // `{?}` is a plain key `?`: its empty value has no `:` to follow, so it is refused too.
    let stream = parse("{?}").unwrap();
    let entry = &root(&stream).entries()[0];
    assert!(
        stream
            .replace_scalar(&entry.value, &NewValue::string("v"))
            .is_err()
    );
    // An entry apart from the explicit one is still edited.
    assert_eq!(
        replace("? a\n: b\nc: 1\n", "c", NewValue::int(2)),
        "? a\n: b\nc: 2\n"
    );
}

/// `saphyr-parser` rejects `key:<tab>value` when the value starts with a letter, digit or
/// `-`; YAML 1.2 and the Go parser Helm uses accept it (the tab separates like a space). The
/// parse reads such a file as Helm does, at exact positions, and a value written after the
/// tab keeps the file readable (first found by the `yaml` fuzz target, docs/fuzzing.md).
#[test]
fn a_tab_after_a_colon_separates_like_a_space() {
    let text = "image:\n  repository:\tnginx\n  tag:\t\t\"1.27\"\n  pullPolicy:\t-x\n";
    let stream = parse(text).unwrap_or_else(|error| panic!("{error}"));
    let image = root(&stream).get("image").expect("image");
    let repository = image.get("repository").expect("repository");
    assert_eq!(repository.value(), Some("nginx"));
    assert_eq!(&text[repository.range.clone()], "nginx");
    assert_eq!(image.get("tag").and_then(Node::value), Some("1.27"));
    assert_eq!(image.get("pullPolicy").and_then(Node::value), Some("-x"));

    let result = replace("a:\t/x\n", "a", NewValue::int(1001));
    assert_eq!(result, "a:\t1001\n");
    let stream = parse(&result).unwrap_or_else(|error| panic!("{error}: {result:?}"));
    assert_eq!(root(&stream).get("a").and_then(Node::value), Some("1001"));
    let result = replace("{a:\t/x}\n", "a", NewValue::string("-x"));
    assert_eq!(parse(&result).map(|_| ()), Ok(()), "{result:?}");
    // A tab as indentation is still an error, as it is for Helm.
    assert!(parse("a:\n\tb: 1\n").is_err());
    // Files written with tabs have many such values.
    let many: String = (0..100)
        .map(|index| format!("key{index}:\tvalue\n"))
        .collect();
    assert_eq!(parse(&many).map(|stream| stream.documents.len()), Ok(1));
}

/// Found by the `yaml` fuzz target (docs/fuzzing.md): `saphyr-parser` 0.3.4 counts the
/// non-ASCII characters of a reserved directive (`%FOO é`) in bytes where every other position
/// is in characters, so every range after it was shifted and `image: nginx:1.27` was rewritten
/// to `image: nreg.mini.dev/nginx:1.27`. Such a file is now refused (reported, left untouched)
/// rather than read with wrong ranges.
#[test]
fn a_directive_that_shifts_the_parsers_positions_is_refused_not_misread() {
    for text in [
        "%FOO \u{e9}\n---\nimage: nginx:1.27\n",
        "%\u{e9}\n--- \"x\"\n",
        "a: 1\n...\n%FOO \u{e9}\n---\nimage: nginx:1.27\n",
    ] {
        let error = parse(text).expect_err(text);
        assert!(
            error.message.contains("document start"),
            "{text:?}: {error}"
        );
    }
    let text = "%YAML 1.2\n%FOO bar\n--- # \u{e9}\nimage: nginx:1.27\n";
    let stream = parse(text).unwrap();
    let image = root(&stream).get("image").unwrap();
    assert_eq!(source(&stream, image), "nginx:1.27");
}

/// Found while checking the explicit-key fix with more inputs: the empty value of a flow
/// mapping's key without `:` (`{a-}`) was filled after the key because the key's text ended
/// in `-`, which the edit layer took for an item's indicator.
#[test]
fn the_empty_value_of_a_key_without_a_colon_is_not_filled() {
    for text in ["{a-}", "{a-, b: 1}", "[{a:-}]"] {
        let stream = parse(text).unwrap();
        let mapping = root(&stream);
        let mapping = mapping.items().first().unwrap_or(mapping);
        let value = &mapping.entries()[0].value;
        let refused = stream.replace_scalar(value, &NewValue::string("v"));
        assert!(refused.is_err(), "{text:?}: {refused:?}");
    }
    assert_eq!(replace("{a: }", "a", NewValue::string("v")), "{a: v }");
}

/// Found by the `yaml` fuzz target (docs/fuzzing.md): a kept block scalar with no content
/// (`>+` and a blank line, value `"\n"`) did not count as ending in kept blank lines, so a key
/// added to its mapping went between the header and the blank line, which then no longer
/// belonged to the scalar.
#[test]
fn keys_go_after_the_blank_lines_of_an_empty_kept_block_scalar() {
    let result = insert(
        "a:\n  b: 1\n  n: >+\n\npx: {}\n",
        "a",
        &[("k", NewValue::int(7))],
    );
    assert_eq!(result, "a:\n  b: 1\n  n: >+\n\n  k: 7\npx: {}\n");
    let stream = parse(&result).unwrap();
    assert_eq!(
        root(&stream).lookup("a.n").and_then(Node::value),
        Some("\n")
    );
}

#[test]
fn an_empty_sequence_is_written_as_brackets_in_block_and_flow_mappings() {
    assert_eq!(
        insert(
            "svc:\n  image: x\n  command: [a]\n",
            "svc",
            &[("entrypoint", NewValue::EmptySequence)]
        ),
        "svc:\n  image: x\n  command: [a]\n  entrypoint: []\n"
    );
    assert_eq!(
        insert(
            "svc: {image: x}\n",
            "svc",
            &[("entrypoint", NewValue::EmptySequence)]
        ),
        "svc: {image: x, entrypoint: []}\n"
    );
    let stream = parse("a: b\n").unwrap();
    let scalar = root(&stream).get("a").unwrap();
    assert!(
        stream
            .replace_scalar(scalar, &NewValue::EmptySequence)
            .is_err()
    );
}

#[test]
fn an_item_is_appended_to_a_block_or_flow_sequence_in_its_style() {
    let append = |text: &str| {
        let stream = parse(text).unwrap();
        let node = root(&stream).get("images").expect("images");
        let pairs = entries(&[
            ("name", NewValue::string("reg.example/redis")),
            ("newTag", NewValue::string("7.4")),
        ]);
        let result = apply(text, vec![stream.append_item(node, &pairs).unwrap()]);
        parse(&result).unwrap_or_else(|error| panic!("result does not parse: {error}\n{result}"));
        result
    };
    assert_eq!(
        append("images:\n  - name: redis\n    newTag: \"7\"\n# after\nnext: 1\n"),
        "images:\n  - name: redis\n    newTag: \"7\"\n  - name: reg.example/redis\n    newTag: \"7.4\"\n# after\nnext: 1\n"
    );
    assert_eq!(
        append("images:\r\n- name: redis\r\n"),
        "images:\r\n- name: redis\r\n- name: reg.example/redis\r\n  newTag: \"7.4\"\r\n"
    );
    assert_eq!(
        append("images: [{name: redis}]\n"),
        "images: [{name: redis}, {name: reg.example/redis, newTag: \"7.4\"}]\n"
    );
    let stream = parse("images: []\n").unwrap();
    let empty = root(&stream).get("images").expect("images");
    assert!(
        stream
            .append_item(empty, &entries(&[("name", NewValue::string("x"))]))
            .is_err()
    );
}
