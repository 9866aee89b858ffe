fn main() {
    println!("{}", rustix::mm::MapFlags::PRIVATE.bits());
}
