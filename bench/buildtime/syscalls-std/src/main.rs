fn main() {
    // SAFETY: getpid has no arguments and no side effects.
    let pid = unsafe { syscalls::syscall0(syscalls::Sysno::getpid) };
    println!("{pid:?}");
}
