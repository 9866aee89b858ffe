fn main() {
    println!("{}", rawmap::page_size());
}
