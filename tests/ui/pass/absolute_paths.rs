//! The expansion names everything by absolute path: it compiles with `Result`, `Vec`, `String`,
//! `Option`, `Box` and `Into` shadowed, and in a module without the prelude.
#![allow(dead_code, non_camel_case_types)]

struct Vec;
struct String;
struct Option;
struct Box;
struct Into;
type Result = ();
fn drop() {}

fn with_shadowed_names() {
    let name = "/srv";
    let t = sandbox_template::template! {
        context "../../it/dsl/fixtures";
        from image "ubuntu:24.04" (username = env("U"), password = env("P"));
        env HOME = {name}, MODE = "x";
        run "a", {name};
        workdir {name};
        pip install;
        copy "app" => "/app";
        start "srv" ready timeout 5s;
    };
    let _ = t;
}

mod no_prelude {
    #![no_implicit_prelude]

    pub fn build() -> ::sandbox_template::Template {
        let home = "/home/app";
        ::sandbox_template::template! {
            context "../../it/dsl/fixtures";
            from python "3.12";
            env HOME = {home};
            copy "app/main.py" => "/app/main.py";
            mkdir "/a" (mode = 0o700);
            ready port 8000;
        }
    }
}

::sandbox_template::template! {
    /// Documented.
    #[allow(dead_code)]
    pub(crate) static ITEM = {
        from node;
        npm install "express";
    };
}

fn main() {
    with_shadowed_names();
    let _ = no_prelude::build();
    let _ = &*ITEM;
}
