#!/bin/bash
# What the Talos imager does for metal amd64 sd-boot .raw.xz with two extensions, with its tools.
set -euo pipefail
W=$1; WORLD=$2; OUT=$3; CMDLINE=$4; VERSION=$5; DISK_MIB=$6
export SOURCE_DATE_EPOCH=0 MTOOLS_SKIP_CHECK=1
I=$WORLD/imager/usr/install/amd64
rm -rf "$W" && mkdir -p "$W/T" "$W/ext"
# Extract the extensions (the imager untars each image into <tmp>/extensions/<j>).
j=0
for e in hello firmware; do cp -a "$WORLD/extensions/$e" "$W/ext/$j"; j=$((j+1)); done
T=$W/T
for d in $(ls "$W/ext" | sort); do
  R=$W/ext/$d/rootfs
  # early microcode, appended; firmware moved into the initramfs
  if [ -d "$R/usr/lib/firmware/intel-ucode" ]; then mkdir -p "$T/kernel/x86/microcode"; cat "$R"/usr/lib/firmware/intel-ucode/* >> "$T/kernel/x86/microcode/GenuineIntel.bin"; rm -f "$R"/usr/lib/firmware/intel-ucode/*; fi
  if ls "$R"/usr/lib/firmware/amd-ucode/microcode_amd*.bin >/dev/null 2>&1; then mkdir -p "$T/kernel/x86/microcode"; cat "$R"/usr/lib/firmware/amd-ucode/microcode_amd*.bin >> "$T/kernel/x86/microcode/AuthenticAMD.bin"; rm -f "$R"/usr/lib/firmware/amd-ucode/microcode_amd*.bin; fi
  if [ -d "$R/usr/lib/firmware" ]; then mkdir -p "$T/usr/lib"; cp -a "$R/usr/lib/firmware" "$T/usr/lib/"; rm -rf "$R/usr/lib/firmware"; fi
  mksquashfs "$R" "$T/$d.sqsh" -all-root -noappend -no-progress -quiet -comp zstd -Xcompression-level 18 >/dev/null
done
{ echo "layers:"; for d in $(ls "$W/ext" | sort); do echo "    - image: $d.sqsh"; echo "      metadata:"; sed -n 's/^  \(name\|version\|author\|description\):/            \1:/p' "$W/ext/$d/manifest.yaml"; done; } > "$T/extensions.yaml"
# initramfs: [plain cpio of kernel/] + original + zstd(cpio of the rest)
cd "$T"
find kernel | LC_ALL=C sort | cpio -H newc --create --reproducible --quiet -R +0:+0 > "$W/initramfs.xz"
cat "$I/initramfs.xz" >> "$W/initramfs.xz"
find . -mindepth 1 ! -path './kernel' ! -path './kernel/*' | sed 's|^\./||' | LC_ALL=C sort | cpio -H newc --create --reproducible --quiet -R +0:+0 | zstd -T0 -18 -c --quiet >> "$W/initramfs.xz"
cd "$W"
# UKI: systemd-stub + sections at 4 KiB-aligned VMAs after the stub (objcopy, as Talos before its native PE writer)
printf '%s' "$CMDLINE" > cmdline
printf 'NAME="Talos"\nID=talos\nVERSION_ID=%s\nPRETTY_NAME="Talos (%s)"\n' "$VERSION" "$VERSION" > osrel
uname=$(strings -n 10 "$I/vmlinuz" | grep -m1 -oE '^[0-9]+\.[0-9]+\.[0-9]+[^ ]*' || true); printf '%s' "$uname" > uname
align() { echo $(( ($1 + 0xfff) & ~0xfff )); }
end=$(objdump -h "$I/systemd-stub.efi" | awk '$1 ~ /^[0-9]+$/ {print "0x"$4, "0x"$3}' | while read vma sz; do echo $((vma + sz)); done | sort -n | tail -1)
off=$(align $end); args=()
for s in osrel cmdline uname linux initrd; do
  case $s in linux) f=$I/vmlinuz;; initrd) f=$W/initramfs.xz;; *) f=$W/$s;; esac
  args+=(--add-section ".$s=$f" --change-section-vma ".$s=$(printf 0x%x $off)")
  off=$(align $((off + $(stat -c %s "$f"))))
done
objcopy "${args[@]}" "$I/systemd-stub.efi" uki.efi
# disk: GPT (EFI 2101 MiB, META 1 MiB), FAT32 ESP with systemd-boot + UKI + loader.conf, sparse
truncate -s ${DISK_MIB}M disk.raw
sgdisk -n 1:2048:+2101M -t 1:EF00 -c 1:EFI -n 2:0:+1M -t 2:8300 -c 2:META disk.raw >/dev/null
mkfs.vfat -F 32 -n EFI --invariant -C esp.img $((2101 * 1024)) >/dev/null
mkdir -p esp/EFI/boot esp/EFI/Linux esp/loader
cp "$I/systemd-boot.efi" esp/EFI/boot/BOOTX64.efi; cp uki.efi "esp/EFI/Linux/Talos-$VERSION.efi"
printf '# systemd-boot configuration\n\ntimeout 10\n' > esp/loader/loader.conf
mcopy -s -p -Q -m -i esp.img esp/EFI esp/loader ::
dd if=esp.img of=disk.raw bs=1M seek=1 conv=notrunc,sparse status=none
rm -f esp.img
xz -0 -T0 -c disk.raw > "$OUT"
rm -rf "$W"
