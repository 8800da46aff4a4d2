sandbox_template::template! {
    pub static API: Template = {
        from base;
    };
}

fn main() {}
