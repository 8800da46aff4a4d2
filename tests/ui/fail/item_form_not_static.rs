sandbox_template::template! {
    pub const API = {
        from base;
    };
}

fn main() {}
