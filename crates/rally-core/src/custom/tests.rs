use super::*;
use serde_json::json;

fn schema() -> WorkspaceSchema {
    let mut s = WorkspaceSchema::default();
    s.types.insert(
        "UserStory",
        vec![
            CustomAttr {
                element: "c_Team".into(),
                name: "Team".into(),
                required: true,
                attribute_type: "STRING".into(),
                max_length: Some(256),
                allowed: Some(vec!["Red".into(), "Blue".into()]),
                read_only: false,
            },
            CustomAttr {
                element: "c_MICSCategory".into(),
                name: "MICS Category".into(),
                required: false,
                attribute_type: "STRING".into(),
                max_length: Some(4),
                allowed: None,
                read_only: false,
            },
        ],
    );
    s
}

#[test]
fn writes_are_checked_by_any_spelling_of_the_name() {
    let s = schema();
    let t = ArtifactType::UserStory;
    let given = json!({"team": "Red", "c_MICSCategory": "Ops"});
    let out = s.check_write(t, given.as_object(), None, true, "customFields").unwrap();
    assert_eq!(Value::Object(out), json!({"c_Team": "Red", "c_MICSCategory": "Ops"}));
    let e = s.check_write(t, json!({"Team": "Green"}).as_object(), None, true, "customFields").unwrap_err();
    assert!(e.to_string().contains("Red, Blue") && e.to_string().contains("Team"), "{e}");
    let e = s.check_write(t, json!({"Colour": "x"}).as_object(), None, false, "customFields").unwrap_err();
    assert!(e.to_string().contains("Colour") && e.to_string().contains("MICS Category"), "{e}");
    let e = s.check_write(t, None, None, true, "customFields").unwrap_err();
    assert_eq!(e.details()["argument"], "customFields.Team");
    assert!(e.to_string().contains("Red, Blue"), "{e}");
    let d = json!({"Team": "Blue"});
    let out = s.check_write(t, None, d.as_object(), true, "customFields").unwrap();
    assert_eq!(out["c_Team"], "Blue");
    let out = s.check_write(t, json!({"Team": "Red"}).as_object(), d.as_object(), true, "customFields").unwrap();
    assert_eq!(out["c_Team"], "Red", "the call's value wins over the default");
    assert!(s.check_write(t, None, None, false, "update").unwrap().is_empty());
    let e = s.check_write(t, json!({"MICS Category": "toolong"}).as_object(), None, false, "u").unwrap_err();
    assert!(e.to_string().contains("at most 4"), "{e}");
}

#[test]
fn reads_name_fields_by_display_name_in_json_form() {
    let s = schema();
    let mut values = HashMap::new();
    values.insert("c_Team".to_string(), json!("Red"));
    let all = s.read(ArtifactType::UserStory, &CustomFieldsOption::All, &values).unwrap();
    assert_eq!(Value::Object(all), json!({"Team": "Red", "MICS Category": null}));
    let named = s.read(ArtifactType::UserStory, &CustomFieldsOption::Named(vec!["c_team".into()]), &values);
    assert_eq!(Value::Object(named.unwrap()), json!({"Team": "Red"}));
    assert_eq!(s.read(ArtifactType::UserStory, &CustomFieldsOption::None, &values), None);
    assert_eq!(s.elements(&CustomFieldsOption::All), ["c_MICSCategory", "c_Team"]);
    assert_eq!(s.unknown_names(&CustomFieldsOption::Named(vec!["Team".into(), "Nope".into()])), ["Nope"]);
    let multi = json!({"_ref": "x", "_tagsNameArray": [{"Name": "UI"}, {"Name": "API"}], "Count": 2});
    assert_eq!(json_form(&multi), json!(["UI", "API"]));
    assert_eq!(json_form(&json!({})), Value::Null);
}

#[test]
fn options_parse() {
    assert_eq!(parse_custom_fields_option(&json!("all")).unwrap(), CustomFieldsOption::All);
    assert!(parse_custom_fields_option(&json!("some")).is_err());
    assert!(parse_custom_fields_option(&json!([1])).is_err());
    let d = parse_create_defaults(&json!({"UserStory": {"Team": "Red"}})).unwrap();
    assert_eq!(d[&ArtifactType::UserStory]["Team"], "Red");
    assert!(parse_create_defaults(&json!({"Epic": {}})).is_err());
    assert_eq!(PrLinks::parse("both"), Some(PrLinks::Both));
    assert_eq!(PrLinks::parse("Both"), None);
}
