//! `ALL` names every generated template (its file name without `.tmpl`), in file name order, and
//! holds the same statics as the constants.
#![deny(warnings)]

mod templates {
    include!("generated/sandbox_templates.rs");
}

fn main() {
    let names: Vec<&str> = templates::ALL.iter().map(|(name, _)| *name).collect();
    assert_eq!(names, ["api", "queue-worker"]);
    assert!(std::ptr::eq(templates::ALL[0].1, &templates::API));
    assert!(std::ptr::eq(templates::ALL[1].1, &templates::QUEUE_WORKER));
    for (name, template) in templates::ALL {
        assert!(template.to_json().is_ok(), "{name}");
    }
}
