//! WSAPI routing: `/slm/webservice/v2.0/<type>[/<oid>[/<Collection>[/add|remove]]]`, with type
//! segments matched case-insensitively and an optional legacy `.js` suffix.

use crate::app::App;
use crate::collect;
use crate::envelope;
use crate::json::J;
use crate::read::{self, Params, Query};
use crate::refs::{self, Id};
use crate::render::{members, Cx, Fetch};
use crate::schema::{info, is_artifact, target_by_path, Kind, Target, FK};
use crate::write::{self, Caller};
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use axum::Extension;
use std::sync::Arc;

const JS_WARNING: &str = "It is no longer necessary to append \".js\" to WSAPI resources.";

pub fn json_response(status: StatusCode, j: &J) -> Response {
    let mut r = Response::new(Body::from(j.to_bytes()));
    *r.status_mut() = status;
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    r
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                match u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz"), 16) {
                    Ok(v) => {
                        out.push(v);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub fn parse_params(q: Option<&str>) -> Params {
    q.unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k).to_ascii_lowercase(), decode(v))
        })
        .collect()
}

pub async fn wsapi(
    State(app): State<Arc<App>>,
    Extension(caller): Extension<Caller>,
    method: Method,
    uri: Uri,
    body: Bytes,
) -> Response {
    if let Some(ws) = schema_path(uri.path()) {
        let st = app.read();
        let cx = Cx::new(&st, &app.base, crate::dates::now_ms());
        return json_response(StatusCode::OK, &schema(&cx, &ws));
    }
    let Some(rest) = strip_base(uri.path()) else {
        let mut r = Response::new(Body::from("Not Found"));
        *r.status_mut() = StatusCode::NOT_FOUND;
        return r;
    };
    let params = parse_params(uri.query());
    let j = dispatch(&app, &method, &rest, &params, &caller, &body);
    json_response(StatusCode::OK, &j)
}

/// `/slm/schema/v2.0/workspace/<oid>`: the workspace's id as sent.
fn schema_path(path: &str) -> Option<String> {
    let lower = path.to_ascii_lowercase();
    let id = lower.strip_prefix("/slm/schema/v2.0/workspace/")?.trim_end_matches('/');
    (!id.is_empty() && !id.contains('/')).then(|| id.to_string())
}

/// The schema service: every type definition of the workspace with its attribute definitions
/// inline (`fetch=true` shapes), which toolkits read once at connect to validate attribute
/// names and find allowed values. `AllowedValues` stays a collection summary whose ref
/// (`…/AttributeDefinition/-10003/AllowedValues`) a client follows.
fn schema(cx: &Cx, ws: &str) -> J {
    let st = cx.st;
    let found = crate::store::parse_oid(ws).filter(|oid| *oid == st.workspace);
    if found.is_none() {
        return envelope::query_result(
            &[format!("Could not read referenced object /workspace/{ws}")],
            &[],
            0,
            1,
            read::DEFAULT_PAGE,
            Vec::new(),
        );
    }
    let mut rows = Vec::new();
    for td in st.all(Kind::TypeDefinition).filter(|t| t.ref_oid("Workspace") == Some(st.workspace)) {
        let mut attrs: Vec<&crate::store::Obj> =
            members(st, td, "Attributes").into_iter().filter_map(|a| st.get(a)).collect();
        // In the type's own attribute order (definitions were made in that order).
        attrs.sort_by_key(|a| crate::store::shown_oid(a.oid).unsigned_abs());
        let inline = J::Arr(attrs.iter().map(|a| cx.render(a, &Fetch::All)).collect());
        let J::Obj(items) = cx.render(td, &Fetch::All) else { continue };
        let mut row = J::obj();
        for (k, v) in items {
            match k.as_ref() {
                "Attributes" => row.push(k, inline.clone()),
                // The sim keeps no revision history; the key is there as clients expect it.
                "_type" => {
                    row.push("RevisionHistory", J::Null);
                    row.push(k, v);
                }
                _ => row.push(k, v),
            }
        }
        rows.push(row);
    }
    let n = rows.len();
    envelope::query_result(&[], &[], n, 1, n.max(1), rows)
}

fn strip_base(path: &str) -> Option<String> {
    let lower = path.to_ascii_lowercase();
    let rest = lower.strip_prefix("/slm/webservice/v2.0")?;
    if !(rest.is_empty() || rest.starts_with('/')) {
        return None;
    }
    Some(path[path.len() - rest.len()..].to_string())
}

enum Op {
    Query,
    Create,
    One(String),
    Collection(String, String),
    CollectionEdit(String, String, bool),
}

fn dispatch(app: &App, method: &Method, rest: &str, p: &Params, caller: &Caller, body: &[u8]) -> J {
    let mut segs: Vec<String> = rest.split('/').filter(|s| !s.is_empty()).map(str::to_string).collect();
    let mut warnings = Vec::new();
    if let Some(last) = segs.last_mut() {
        if last.to_ascii_lowercase().ends_with(".js") {
            last.truncate(last.len() - 3);
            warnings.push(JS_WARNING.to_string());
        }
    }
    let is_get = method == Method::GET;
    let writing = method == Method::POST || method == Method::PUT;
    if segs.is_empty() {
        return envelope::operation(&["Requested type name \"\" is unknown.".into()], &warnings, None);
    }
    let pull_requests = app.read().pull_requests;
    let known = resolve_type(&segs).filter(|(t, ..)| pull_requests || !t.kinds().contains(&Kind::PullRequest));
    let (target, used, plural) = match known {
        Some(t) => t,
        None => {
            let pi = segs[0].eq_ignore_ascii_case("portfolioitem") && segs.len() >= 2;
            let (name, used) = if pi { (format!("{}/{}", segs[0], segs[1]), 2) } else { (segs[0].clone(), 1) };
            let e = format!("Requested type name \"{name}\" is unknown.");
            let rest_len = segs.len() - used;
            return match (rest_len, is_get) {
                (0, true) => envelope::query_result(&[e], &warnings, 0, 1, read::DEFAULT_PAGE, Vec::new()),
                (1, _) if segs[used].eq_ignore_ascii_case("create") => envelope::create(&[e], &warnings, None),
                _ => envelope::operation(&[e], &warnings, None),
            };
        }
    };
    let tail = &segs[used..];
    let op = match tail {
        [] => Op::Query,
        [c] if c.eq_ignore_ascii_case("create") && writing => Op::Create,
        [id] => Op::One(id.clone()),
        [id, f] => Op::Collection(id.clone(), f.clone()),
        [id, f, verb] if writing && (verb.eq_ignore_ascii_case("add") || verb.eq_ignore_ascii_case("remove")) => {
            Op::CollectionEdit(id.clone(), f.clone(), verb.eq_ignore_ascii_case("add"))
        }
        _ => return envelope::operation(&[format!("Unsupported resource: {rest}")], &warnings, None),
    };
    let fetch_raw = p.get("fetch").map(String::as_str);
    let now = crate::dates::now_ms();
    match (op, method.clone()) {
        (Op::Query, Method::GET) => {
            let st = app.read();
            let cx = Cx::new(&st, &app.base, now);
            // `/user` is the caller, but `/user?query=…` is an ordinary query over users, as
            // toolkits send it (pyral's getUserInfo(username=…)); see README, "Choices".
            let user_query = target == Target::One(Kind::User) && p.contains_key("query");
            let singleton = !plural && !user_query && matches!(target, Target::One(Kind::User | Kind::Subscription));
            if singleton {
                let oid = if target == Target::One(Kind::User) { caller.user } else { st.subscription };
                return single(&cx, &target, oid, fetch_raw, &warnings);
            }
            if target == Target::One(Kind::AttachmentContent) {
                // As pyral notes: a query on AttachmentContent comes back empty; read by ObjectID.
                return envelope::query_result(&[], &warnings, 0, 1, read::DEFAULT_PAGE, Vec::new());
            }
            read::run(&cx, Query { target, members: None, params: p, warnings })
        }
        (Op::Create, _) => {
            let Target::One(kind) = target else {
                return envelope::create(
                    &[format!("Cannot create an object of abstract type {}", target.type_name())],
                    &warnings,
                    None,
                );
            };
            if !(is_artifact(kind) || crate::schema::is_creatable_other(kind)) {
                return envelope::create(
                    &[format!("Cannot create objects of type {}", info(kind).type_name)],
                    &warnings,
                    None,
                );
            }
            let mut st = app.write();
            with_warnings(write::create(&mut st, &app.base, kind, body, caller, &Fetch::parse(fetch_raw)), &warnings)
        }
        (Op::One(id), m) => {
            let st_r = app.read();
            let oid = lookup(&st_r, &target, &id);
            drop(st_r);
            match m {
                Method::GET => {
                    let st = app.read();
                    let cx = Cx::new(&st, &app.base, now);
                    match oid {
                        Some(oid) => single(&cx, &target, oid, fetch_raw, &warnings),
                        None => envelope::operation(&["Cannot find object to read".into()], &warnings, None),
                    }
                }
                Method::DELETE | Method::POST | Method::PUT => {
                    let Target::One(kind) = target else {
                        return envelope::operation(
                            &[format!("Cannot modify an object through abstract type {}", target.type_name())],
                            &warnings,
                            None,
                        );
                    };
                    let shown_oid = oid.unwrap_or_else(|| crate::store::parse_oid(&id).unwrap_or(0));
                    let mut st = app.write();
                    let j = if m == Method::DELETE {
                        write::delete(&mut st, kind, shown_oid)
                    } else {
                        write::update(&mut st, &app.base, kind, shown_oid, body, caller, &Fetch::parse(fetch_raw))
                    };
                    with_warnings(j, &warnings)
                }
                _ => envelope::operation(&[format!("Unsupported method {m}")], &warnings, None),
            }
        }
        (Op::Collection(id, field), Method::GET) => {
            let st = app.read();
            let cx = Cx::new(&st, &app.base, now);
            let Some(o) = lookup(&st, &target, &id).and_then(|oid| st.get(oid)) else {
                return envelope::query_result(
                    &["Cannot find object to read".into()],
                    &warnings,
                    0,
                    1,
                    read::DEFAULT_PAGE,
                    Vec::new(),
                );
            };
            let ti = info(o.kind);
            let member = ti.field_index_ci(&field).map(|i| ti.fields[i]).and_then(|fd| match fd.kind {
                FK::Refs(k) | FK::Coll(k, _) => Some((k, fd.name)),
                _ => None,
            });
            let Some((kind, name)) = member else {
                return envelope::query_result(
                    &[format!("Could not parse: Unknown collection \"{field}\" on type {}", ti.type_name)],
                    &warnings,
                    0,
                    1,
                    read::DEFAULT_PAGE,
                    Vec::new(),
                );
            };
            let ids = members(&st, o, name);
            // A collection read without `fetch` returns whole objects (as recorded in
            // query-subscription-workspaces-collection.json), unlike a type query.
            let mut full;
            let params = if p.contains_key("fetch") {
                p
            } else {
                full = p.clone();
                full.insert("fetch".into(), "true".into());
                &full
            };
            read::run(&cx, Query { target: Target::One(kind), members: Some(ids), params, warnings })
        }
        (Op::CollectionEdit(id, field, add), _) => {
            let Target::One(kind) = target else {
                return envelope::operation(
                    &["Cannot modify an object through an abstract type".into()],
                    &warnings,
                    None,
                );
            };
            let mut st = app.write();
            let oid = lookup(&st, &target, &id).unwrap_or_else(|| crate::store::parse_oid(&id).unwrap_or(0));
            let ti = info(kind);
            let name = ti.field_index_ci(&field).map_or(field.as_str(), |i| ti.fields[i].name).to_string();
            with_warnings(
                collect::collection(
                    &mut st,
                    &app.base,
                    collect::Edit { kind, oid, field: &name, add },
                    body,
                    &Fetch::parse(fetch_raw),
                ),
                &warnings,
            )
        }
        (_, m) => envelope::operation(&[format!("Unsupported method {m}")], &warnings, None),
    }
}

/// Adds request-level warnings (the `.js` notice) to a write envelope.
fn with_warnings(mut j: J, extra: &[String]) -> J {
    if extra.is_empty() {
        return j;
    }
    if let J::Obj(items) = &mut j {
        if let Some((_, J::Obj(body))) = items.first_mut() {
            for (k, v) in body.iter_mut() {
                if k == "Warnings" {
                    if let J::Arr(list) = v {
                        list.extend(extra.iter().map(|w| J::s(w.clone())));
                    }
                }
            }
        }
    }
    j
}

fn single(cx: &Cx, target: &Target, oid: u64, fetch_raw: Option<&str>, warnings: &[String]) -> J {
    let Some(o) = cx.st.get(oid).filter(|o| target.kinds().contains(&o.kind)) else {
        return envelope::operation(&["Cannot find object to read".into()], warnings, None);
    };
    // Without fetch a single GET returns every attribute.
    let fetch = match fetch_raw {
        None => Fetch::All,
        Some(f) => Fetch::parse(Some(f)),
    };
    // The envelope key is the element name: `{"Feature": …}` for a PortfolioItem/Feature.
    envelope::single(info(o.kind).element_name, cx.render(o, &fetch), warnings)
}

/// `123` or a UUID to an ObjectID of one of the target's kinds.
fn lookup(st: &crate::store::Store, target: &Target, id: &str) -> Option<u64> {
    let kinds = target.kinds();
    let oid = match refs::parse(&format!("/{}/{}", info(kinds[0]).path, id))?.id {
        Id::Oid(o) => o,
        Id::Uuid(u) => st.by_uuid(&u)?,
    };
    st.get(oid).filter(|o| kinds.contains(&o.kind)).map(|o| o.oid)
}

/// The endpoint type, how many segments named it, and whether it was the plural form.
fn resolve_type(segs: &[String]) -> Option<(Target, usize, bool)> {
    if segs.len() >= 2 {
        if let Some(t) = target_by_path(&format!("{}/{}", segs[0], segs[1])) {
            return Some((t, 2, false));
        }
        // `portfolioitem/<name>` names a PI type; an unknown one is an unknown type, not an id.
        let id_like = segs[1].bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
        if segs[0].eq_ignore_ascii_case("portfolioitem") && !id_like {
            return None;
        }
    }
    match segs[0].to_ascii_lowercase().as_str() {
        "users" => Some((Target::One(Kind::User), 1, true)),
        "subscriptions" => Some((Target::One(Kind::Subscription), 1, true)),
        _ => target_by_path(&segs[0]).map(|t| (t, 1, false)),
    }
}
