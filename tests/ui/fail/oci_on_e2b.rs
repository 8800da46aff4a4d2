use sandbox_template::template;

fn main() {
    let _ = template! {
        provider e2b;
        from oci "iad.ocir.io/ns/app:1" (tenancy_ocid = "t", user_ocid = "u", fingerprint = "f", private_key = env("KEY"), region = "r");
    };
}
