build2/drivers/acpi.o: drivers/acpi.c drivers/acpi.h kernel/bootinfo.h \
 kernel/cmdline.h kernel/types.h kernel/layout.h kernel/printf.h \
 kernel/string.h kernel/x86.h mm/mm.h
drivers/acpi.h:
kernel/bootinfo.h:
kernel/cmdline.h:
kernel/types.h:
kernel/layout.h:
kernel/printf.h:
kernel/string.h:
kernel/x86.h:
mm/mm.h:
