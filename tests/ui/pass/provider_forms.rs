//! The forms of the SDK methods only some providers have: `from oci` and `patch` (novita-sandbox
//! only, so under `provider novita;`), `mcp server` and `devcontainer` (both SDKs), with values
//! from Rust, in a module without the prelude (the expansion names everything by absolute path).
#![allow(dead_code)]

mod no_prelude {
    #![no_implicit_prelude]

    pub fn oracle() -> ::sandbox_template::Template {
        let region = "us-ashburn-1";
        let key = ::sandbox_template::Secret::from_env("OCI_PRIVATE_KEY");
        ::sandbox_template::template! {
            provider novita;
            context "../../it/dsl/fixtures";
            from oci "iad.ocir.io/ns/app:1" (
                tenancy_ocid = "ocid1.tenancy.oc1..aaaa",
                user_ocid = {"ocid1.user.oc1..bbbb"},
                fingerprint = "12:34:56",
                private_key = {key},
                region = {region},
            );
            copy "app" => "/app" (gzip);
            patch "echo patched > /etc/patched";
        }
    }

    pub fn gateway() -> ::sandbox_template::Template {
        let servers = ["brave", "firecrawl"];
        ::sandbox_template::template! {
            from template "mcp-gateway";
            mcp server "exa";
            mcp server {servers};
        }
    }

    pub fn dev_container(dir: &str) -> ::sandbox_template::Template {
        ::sandbox_template::template! {
            from template "devcontainer";
            git clone "https://example.com/p.git" => {dir};
            devcontainer prebuild {dir};
            devcontainer start {dir};
        }
    }
}

fn main() {
    assert!(no_prelude::oracle().validate().is_ok());
    assert!(no_prelude::gateway().validate().is_ok());
    assert!(no_prelude::dev_container("/dc").validate().is_ok());
}
