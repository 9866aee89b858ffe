fn main() {
    let map = memmap2::MmapOptions::new().len(1).map_anon().unwrap();
    println!("{}", map.len());
}
