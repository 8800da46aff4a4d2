sandbox_template::template! {
    pub static API = {
        from base;
    };

    /// The one without a base is named.
    pub static WORKER = {
        run "echo";
    };
}

fn main() {
    let _ = (API.steps().len(), WORKER.steps().len());
}
