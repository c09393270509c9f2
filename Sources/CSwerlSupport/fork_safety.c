/* fork() after the library is loaded: the forking thread's Swift lock id.
 *
 * The Swift runtime's Linux lock (swift/Threading/Impl/Linux/ulock.h) is a
 * priority-inheritance futex: the lock word holds its owner's thread id, and
 * each thread caches its id in a thread-local variable on first use (the
 * library's own load already does it on the loading thread). fork() copies
 * the forking thread with its thread-local state, so in the child that thread
 * keeps the parent's id: the first time one of its locks is contended, the
 * kernel looks for an owner in the other process and the unlock is refused,
 * and both threads wait for ever. A C server that forks workers or Python's
 * multiprocessing would hang at random; our forked test sections did.
 *
 * The runtime has no reset, so a fork handler clears that cache in the child:
 * its next lock reads the right id. The cache is a local symbol; its offset in
 * the thread-local block of the module holding the Swift runtime (this
 * library, or libswiftCore.so) is read once from the module's symbol table on
 * disk (it is not loaded). A stripped module has none: nothing is cleared, and
 * swerlrt_swift_tid_caches reports 0 so a test notices. */
#define _GNU_SOURCE 1
#include "swerl_support.h"

#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* swift::threading_impl::linux::ulock_get_tid()::tid */
static const char k_tid_cache_symbol[] = "_ZZN5swift14threading_impl5linux13ulock_get_tidEvE3tid";

/* A function of the Swift runtime: its module is the one to read. */
extern void swift_retain(void);

enum { MAX_CACHES = 4 };

static struct {
    void *module;                    /* dlopen handle, kept for the process's life */
    size_t offsets[MAX_CACHES];      /* in the module's thread-local block */
    int count;
} g_caches;
static pthread_once_t g_caches_once = PTHREAD_ONCE_INIT;

/* The forking thread's caches, found in the parent before fork(); the child's
   copy of this thread has the same addresses. */
static _Thread_local int *t_forking_caches[MAX_CACHES];

typedef struct {
    uintptr_t address;
    const char *name;                /* "" for the main program */
    int found;
} module_search;

static int find_module(struct dl_phdr_info *info, size_t size, void *data) {
    module_search *search = data;
    (void)size;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t start = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && search->address >= start && search->address < start + ph->p_memsz) {
            search->name = info->dlpi_name ? info->dlpi_name : "";
            search->found = 1;
            return 1;
        }
    }
    return 0;
}

/* The STT_TLS symbols named k_tid_cache_symbol in an ELF image of `size`
   bytes; every bound is checked, as the file is only trusted to be ELF. */
static void read_symbols(const unsigned char *image, size_t size) {
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)image;
    if (size < sizeof *eh || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64)
        return;
    if (eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_shoff > size
        || (size - eh->e_shoff) / sizeof(Elf64_Shdr) < eh->e_shnum)
        return;
    const Elf64_Shdr *sections = (const Elf64_Shdr *)(image + eh->e_shoff);
    for (unsigned s = 0; s < eh->e_shnum; s++) {
        const Elf64_Shdr *symtab = &sections[s];
        if (symtab->sh_type != SHT_SYMTAB || symtab->sh_link >= eh->e_shnum) continue;
        const Elf64_Shdr *strtab = &sections[symtab->sh_link];
        if (symtab->sh_offset > size || symtab->sh_size > size - symtab->sh_offset) continue;
        if (strtab->sh_offset > size || strtab->sh_size > size - strtab->sh_offset) continue;
        const Elf64_Sym *symbols = (const Elf64_Sym *)(image + symtab->sh_offset);
        const char *names = (const char *)(image + strtab->sh_offset);
        size_t count = symtab->sh_size / sizeof(Elf64_Sym);
        for (size_t i = 0; i < count && g_caches.count < MAX_CACHES; i++) {
            const Elf64_Sym *sym = &symbols[i];
            if (ELF64_ST_TYPE(sym->st_info) != STT_TLS || sym->st_name >= strtab->sh_size) continue;
            size_t room = strtab->sh_size - sym->st_name;
            if (room < sizeof k_tid_cache_symbol
                || memcmp(names + sym->st_name, k_tid_cache_symbol, sizeof k_tid_cache_symbol) != 0)
                continue;
            g_caches.offsets[g_caches.count++] = sym->st_value;
        }
    }
}

static void find_caches(void) {
    module_search search = { (uintptr_t)&swift_retain, NULL, 0 };
    dl_iterate_phdr(find_module, &search);
    if (!search.found) return;
    const char *path = search.name[0] ? search.name : "/proc/self/exe";
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    struct stat st;
    if (fstat(fd, &st) == 0 && st.st_size > 0) {
        void *image = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (image != MAP_FAILED) {
            read_symbols(image, (size_t)st.st_size);
            munmap(image, (size_t)st.st_size);
        }
    }
    close(fd);
    if (g_caches.count > 0)
        g_caches.module = dlopen(search.name[0] ? search.name : NULL, RTLD_LAZY | RTLD_NOLOAD);
    if (!g_caches.module) g_caches.count = 0;
}

/* The calling thread's caches (NULL where its block is not allocated yet:
   then it has cached nothing). */
static int locate_caches(int **out) {
    pthread_once(&g_caches_once, find_caches);
    void *block = NULL;
    if (g_caches.count == 0 || dlinfo(g_caches.module, RTLD_DI_TLS_DATA, &block) != 0) block = NULL;
    for (int i = 0; i < MAX_CACHES; i++)
        out[i] = block && i < g_caches.count ? (int *)((char *)block + g_caches.offsets[i]) : NULL;
    return g_caches.count;
}

static void before_fork(void) { locate_caches(t_forking_caches); }

void swerlrt_forget_tid(void);  /* support.c: our own cached thread id */

static void in_child(void) {
    for (int i = 0; i < MAX_CACHES; i++)
        if (t_forking_caches[i]) *t_forking_caches[i] = 0;
    swerlrt_forget_tid();
}

__attribute__((constructor)) static void register_fork_handlers(void) {
    pthread_atfork(before_fork, NULL, in_child);
}

int swerlrt_swift_tid_caches(int *first_value) {
    int *caches[MAX_CACHES];
    int count = locate_caches(caches);
    *first_value = count > 0 && caches[0] ? *caches[0] : 0;
    return count;
}
