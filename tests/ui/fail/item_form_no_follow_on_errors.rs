sandbox_template::template! {
    /// Only the bad port is reported: `API` still exists with the right type.
    pub static API = {
        from base;
        start "srv" ready port 0;
    };
}

fn main() {
    let _ = API.steps().len();
}
