use super::*;

#[test]
fn helpers() {
    assert!(login_like("https://sso.example.com/idp"));
    assert!(login_like("https://proxy/Login.html"));
    assert!(!login_like("https://rally1.rallydev.com/slm/webservice/v2.0/defect/1"));
    assert_eq!(strip_query("https://h/p?token=secret#x"), "https://h/p");
    assert!(looks_like_html(b"  <!DOCTYPE html><html>"));
    assert!(!looks_like_html(b"{\"QueryResult\":"));
    assert_eq!(envelope_errors(br#"{"OperationResult":{"Errors":["x"],"Warnings":[]}}"#), Some(vec!["x".to_string()]));
    assert_eq!(envelope_errors(b"<html>"), None);
    assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:01 GMT"), Some(1000));
    assert_eq!(parse_http_date("Mon, 30 Nov 2026 06:09:17 GMT"), Some(1_796_018_957_000));
    assert_eq!(parse_http_date("Monday, 30-Nov-26 06:09:17 GMT"), None);
    assert_eq!(parse_http_date("Mon, 30 Nov 2026 25:09:17 GMT"), None);
}
