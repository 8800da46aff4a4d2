use sandbox_template::template;

fn main() {
    let _ = template! {
        from huawei "swr.cn-north-4.myhuaweicloud.com/org/img:1" (access_key_id = env("AK"), secret_access_key = env("SK"), region = "cn-north-4");
    };
}
