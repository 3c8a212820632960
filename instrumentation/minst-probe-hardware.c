/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "MinstProbeHardware"

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "minst-probe.h"

/*
 * Hardware: only generic classes (vendor families, rounded sizes, chassis
 * class, presence of a device type). No serial numbers, no model names, no
 * exact sizes: nothing here can single out one machine.
 */

/* the value of "key : value" lines of /proc/cpuinfo-like files, or NULL */
static char *
colon_value(const char *line, const char *key)
{
	gsize len = strlen(key);
	const char *p;

	if (strncmp(line, key, len) != 0)
		return NULL;
	p = line + len;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != ':')
		return NULL;
	return g_strstrip(g_strdup(p + 1));
}

const char *
minst_hw_cpu_vendor(const char *cpuinfo)
{
	g_auto(GStrv) lines = g_strsplit(cpuinfo, "\n", -1);

	for (guint i = 0; lines[i] != NULL; i++) {
		g_autofree char *vendor = colon_value(lines[i], "vendor_id");

		if (vendor != NULL) {
			if (g_strcmp0(vendor, "GenuineIntel") == 0)
				return "intel";
			if (g_strcmp0(vendor, "AuthenticAMD") == 0)
				return "amd";
			return "other";
		}
		/* ARM kernels have no vendor_id; every ARM core has an implementer */
		g_clear_pointer(&vendor, g_free);
		vendor = colon_value(lines[i], "CPU implementer");
		if (vendor != NULL)
			return "arm";
	}
	g_debug("cpuinfo has neither vendor_id nor CPU implementer: skipping the CPU vendor");
	return NULL;
}

/* physical cores: distinct (physical id, core id) pairs where the kernel
 * gives them (x86), else the processor entries; 0 if none */
guint
minst_hw_cpu_cores(const char *cpuinfo)
{
	g_auto(GStrv) lines = g_strsplit(cpuinfo, "\n", -1);
	g_autoptr(GHashTable) cores = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autofree char *physical = NULL;
	guint processors = 0;

	for (guint i = 0; lines[i] != NULL; i++) {
		g_autofree char *value = NULL;

		if ((value = colon_value(lines[i], "processor")) != NULL) {
			guint64 n;
			if (g_ascii_string_to_unsigned(value, 10, 0, 65535, &n, NULL))
				processors++;
		} else if ((value = colon_value(lines[i], "physical id")) != NULL) {
			g_free(physical);
			physical = g_steal_pointer(&value);
		} else if ((value = colon_value(lines[i], "core id")) != NULL) {
			g_hash_table_add(
				cores,
				g_strdup_printf("%s/%s", physical != NULL ? physical : "", value));
		}
	}
	if (processors == 0) {
		g_debug("cpuinfo lists no processor: skipping the core count");
		return 0;
	}
	if (g_hash_table_size(cores) > 0)
		return MIN(g_hash_table_size(cores), processors);
	return processors;
}

const char *
minst_bucket_cpu_cores(guint cores)
{
	if (cores <= 1)
		return "1";
	if (cores == 2)
		return "2";
	if (cores <= 4)
		return "3-4";
	if (cores <= 8)
		return "5-8";
	if (cores <= 16)
		return "9-16";
	if (cores <= 32)
		return "17-32";
	return "33+";
}

/* MemTotal is a little below the installed size (the kernel and firmware
 * keep some), so round it up to the next power of two */
const char *
minst_hw_ram_size(const char *meminfo)
{
	g_auto(GStrv) lines = g_strsplit(meminfo, "\n", -1);

	for (guint i = 0; lines[i] != NULL; i++) {
		g_autofree char *value = colon_value(lines[i], "MemTotal");
		g_auto(GStrv) parts = NULL;
		guint64 kib;
		double gib;

		if (value == NULL)
			continue;
		parts = g_strsplit(value, " ", 2);
		if (!g_ascii_string_to_unsigned(parts[0], 10, 1, G_MAXUINT64, &kib, NULL) ||
		    g_strcmp0(parts[1], "kB") != 0) {
			g_debug("MemTotal is not a size in kB: skipping the RAM size");
			return NULL;
		}
		gib = (double)kib / (1024.0 * 1024.0);
		if (gib <= 2.0)
			return "<=2GiB";
		if (gib <= 4.0)
			return "4GiB";
		if (gib <= 8.0)
			return "8GiB";
		if (gib <= 16.0)
			return "16GiB";
		if (gib <= 32.0)
			return "32GiB";
		return "64GiB+";
	}
	g_debug("meminfo has no MemTotal: skipping the RAM size");
	return NULL;
}

/* @vendor is the contents of a PCI device's "vendor" file, like "0x8086" */
const char *
minst_hw_gpu_vendor_from_pci_id(const char *vendor)
{
	g_autofree char *id = g_ascii_strdown(vendor, -1);
	guint64 n;

	g_strstrip(id);
	if (!g_str_has_prefix(id, "0x") ||
	    !g_ascii_string_to_unsigned(id + 2, 16, 0, 0xffff, &n, NULL)) {
		g_debug("PCI vendor id “%s” is not a hex number: skipping it", id);
		return NULL;
	}
	switch (n) {
	case 0x8086:
		return "intel";
	case 0x1002:
	case 0x1022:
		return "amd";
	case 0x10de:
		return "nvidia";
	case 0x1af4: /* virtio */
	case 0x1b36: /* qemu (qxl) */
	case 0x1234: /* qemu (bochs) */
	case 0x15ad: /* vmware */
	case 0x80ee: /* virtualbox */
	case 0x1414: /* hyper-v */
		return "virtual";
	default:
		return "other";
	}
}

/* SMBIOS chassis types (DMTF DSP0134, section 7.4.1) */
const char *
minst_hw_chassis(const char *chassis_type)
{
	g_autofree char *copy = g_strstrip(g_strdup(chassis_type));
	guint64 n;

	if (!g_ascii_string_to_unsigned(copy, 10, 1, 255, &n, NULL)) {
		g_debug("chassis_type “%s” is not a number: skipping the chassis", copy);
		return NULL;
	}
	switch (n) {
	case 3:	 /* desktop */
	case 4:	 /* low profile desktop */
	case 5:	 /* pizza box */
	case 6:	 /* mini tower */
	case 7:	 /* tower */
	case 13: /* all in one */
	case 15: /* space-saving */
	case 16: /* lunch box */
	case 35: /* mini pc */
	case 36: /* stick pc */
		return "desktop";
	case 8:	 /* portable */
	case 9:	 /* laptop */
	case 10: /* notebook */
	case 14: /* sub notebook */
		return "laptop";
	case 31: /* convertible */
	case 32: /* detachable */
		return "convertible";
	case 11: /* hand held */
	case 30: /* tablet */
		return "tablet";
	case 17: /* main server chassis */
	case 23: /* rack mount */
	case 28: /* blade */
	case 29: /* blade enclosure */
		return "server";
	default:
		return "other";
	}
}

/* whether bit @bit is set in a /proc/bus/input/devices bitmap: hex words of
 * 64 bits (the kernel's long on the 64-bit architectures Fedora ships),
 * most significant first */
static gboolean
bitmap_has_bit(const char *bitmap, guint bit)
{
	g_auto(GStrv) words = g_strsplit(bitmap, " ", -1);
	guint n = g_strv_length(words);
	guint word = bit / 64;
	guint64 value;

	if (word >= n)
		return FALSE;
	if (!g_ascii_string_to_unsigned(words[n - 1 - word], 16, 0, G_MAXUINT64, &value, NULL))
		return FALSE;
	return (value >> (bit % 64)) & 1;
}

#define INPUT_PROP_DIRECT 0x01
#define ABS_MT_POSITION_X 0x35

/* a touchscreen is a direct input device (on the display) that reports
 * several touch points; pen-only tablets and touchpads do not both */
gboolean
minst_hw_touchscreen_from_input_devices(const char *devices, gboolean *present)
{
	g_auto(GStrv) lines = g_strsplit(devices, "\n", -1);
	gboolean direct = FALSE;
	gboolean multitouch = FALSE;
	guint n_devices = 0;

	*present = FALSE;
	for (guint i = 0; lines[i] != NULL; i++) {
		const char *line = lines[i];

		if (g_str_has_prefix(line, "I: ")) {
			n_devices++;
			direct = FALSE;
			multitouch = FALSE;
		} else if (g_str_has_prefix(line, "B: PROP=")) {
			direct = bitmap_has_bit(line + strlen("B: PROP="), INPUT_PROP_DIRECT);
		} else if (g_str_has_prefix(line, "B: ABS=")) {
			multitouch = bitmap_has_bit(line + strlen("B: ABS="), ABS_MT_POSITION_X);
		}
		if (direct && multitouch)
			*present = TRUE;
	}
	if (n_devices == 0) {
		g_debug("the input device list has no device: skipping the touchscreen");
		return FALSE;
	}
	return TRUE;
}

/* USB vendors whose USB devices on PCs are fingerprint readers (as listed by
 * libfprint); Elan also makes USB touchscreens, its readers are 0x0cXX */
gboolean
minst_hw_is_fingerprint_reader(const char *id_vendor, const char *id_product)
{
	const char *const vendors[] = {"06cb", "138a", "27c6", "1c7a", "298d",
				       "10a5", "147e", "08ff", "2808", NULL};
	g_autofree char *vendor = g_strstrip(g_ascii_strdown(id_vendor, -1));
	g_autofree char *product = g_strstrip(g_ascii_strdown(id_product, -1));

	if (g_strv_contains(vendors, vendor))
		return TRUE;
	return g_strcmp0(vendor, "04f3") == 0 && g_str_has_prefix(product, "0c");
}

static void
probe_cpu(MinstContext *ctx, GPtrArray *samples)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *cpuinfo = minst_context_read_file(ctx, "/proc/cpuinfo", &error);
	const char *vendor;
	guint cores;

	if (cpuinfo == NULL) {
		g_debug("skipping the CPU: %s", error->message);
		return;
	}
	vendor = minst_hw_cpu_vendor(cpuinfo);
	if (vendor != NULL)
		minst_samples_add_value(samples, MINST_METRIC_HW_CPU_VENDOR,
					g_variant_new_string(vendor));
	cores = minst_hw_cpu_cores(cpuinfo);
	if (cores > 0)
		minst_samples_add_value(samples, MINST_METRIC_HW_CPU_CORES,
					g_variant_new_string(minst_bucket_cpu_cores(cores)));
}

static void
probe_ram(MinstContext *ctx, GPtrArray *samples)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *meminfo = minst_context_read_file(ctx, "/proc/meminfo", &error);
	const char *size;

	if (meminfo == NULL) {
		g_debug("skipping the RAM size: %s", error->message);
		return;
	}
	size = minst_hw_ram_size(meminfo);
	if (size != NULL)
		minst_samples_add_value(samples, MINST_METRIC_HW_RAM_SIZE,
					g_variant_new_string(size));
}

/* calls @func for every entry of a sysfs class directory */
static gboolean
for_each_entry(MinstContext *ctx,
	       const char *dir_path,
	       gboolean (*func)(const char *entry_path, const char *name, gpointer data),
	       gpointer data)
{
	g_autofree char *path = minst_context_build_path(ctx, dir_path);
	g_autoptr(GDir) dir = NULL;
	g_autoptr(GError) error = NULL;
	const char *name;

	dir = g_dir_open(path, 0, &error);
	if (dir == NULL) {
		g_debug("cannot list %s: %s", dir_path, error->message);
		return FALSE;
	}
	while ((name = g_dir_read_name(dir)) != NULL) {
		g_autofree char *entry = g_build_filename(path, name, NULL);
		if (!func(entry, name, data))
			break;
	}
	return TRUE;
}

static gboolean
gpu_cb(const char *entry_path, const char *name, gpointer data)
{
	GHashTable *vendors = data;
	g_autofree char *vendor_path = NULL;
	g_autofree char *contents = NULL;
	const char *vendor;

	/* cardN, not the connectors (cardN-eDP-1) or render nodes */
	if (!g_str_has_prefix(name, "card") || strchr(name, '-') != NULL)
		return TRUE;
	vendor_path = g_build_filename(entry_path, "device", "vendor", NULL);
	if (!g_file_get_contents(vendor_path, &contents, NULL, NULL)) {
		/* platform GPUs (on ARM boards) have no PCI vendor */
		g_debug("%s has no PCI vendor: skipping it", name);
		return TRUE;
	}
	vendor = minst_hw_gpu_vendor_from_pci_id(contents);
	if (vendor != NULL)
		g_hash_table_add(vendors, (gpointer)vendor);
	return TRUE;
}

static void
probe_gpu(MinstContext *ctx, GPtrArray *samples)
{
	g_autoptr(GHashTable) vendors = g_hash_table_new(g_str_hash, g_str_equal);

	if (!for_each_entry(ctx, "/sys/class/drm", gpu_cb, vendors))
		return;
	/* in the order of the value list, so the result does not depend on
	 * the directory order */
	for (guint i = 0; minst_values_hw_gpu_vendor[i] != NULL; i++) {
		if (g_hash_table_contains(vendors, minst_values_hw_gpu_vendor[i]))
			minst_samples_add_value(
				samples, MINST_METRIC_HW_GPU_VENDOR,
				g_variant_new_string(minst_values_hw_gpu_vendor[i]));
	}
}

static void
probe_chassis(MinstContext *ctx, GPtrArray *samples)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *contents =
		minst_context_read_file(ctx, "/sys/class/dmi/id/chassis_type", &error);
	const char *chassis;

	if (contents == NULL) {
		g_debug("skipping the chassis: %s", error->message);
		return;
	}
	chassis = minst_hw_chassis(contents);
	if (chassis != NULL)
		minst_samples_add_value(samples, MINST_METRIC_HW_CHASSIS,
					g_variant_new_string(chassis));
}

/**
 * minst_hw_v4l_capture_from_udev:
 * @udev_data: a udev database entry (/run/udev/data/c81:N)
 * @capture: (out): whether the node captures video from a sensor
 *
 * Reads ID_V4L_CAPABILITIES, set by udev's v4l_id from VIDIOC_QUERYCAP:
 * a camera's capture node has ":capture:" and no ":video_output:"; a
 * memory-to-memory codec or scaler either lists neither or both. Returns
 * FALSE if the entry has no capabilities.
 */
gboolean
minst_hw_v4l_capture_from_udev(const char *udev_data, gboolean *capture)
{
	g_auto(GStrv) lines = g_strsplit(udev_data, "\n", -1);

	*capture = FALSE;
	for (guint i = 0; lines[i] != NULL; i++) {
		const char *caps;

		if (!g_str_has_prefix(lines[i], "E:ID_V4L_CAPABILITIES="))
			continue;
		caps = lines[i] + strlen("E:ID_V4L_CAPABILITIES=");
		*capture =
			strstr(caps, ":capture:") != NULL && strstr(caps, ":video_output:") == NULL;
		return TRUE;
	}
	return FALSE;
}

typedef struct {
	MinstContext *ctx;
	gboolean present;
} CameraSearch;

/* whether the video4linux node at @entry_path captures from a camera:
 * from the udev database if it knows, else whether it belongs to a USB
 * video-class interface */
static gboolean
v4l_node_is_camera(MinstContext *ctx, const char *entry_path, const char *name)
{
	g_autofree char *dev_path = g_build_filename(entry_path, "dev", NULL);
	g_autofree char *class_path =
		g_build_filename(entry_path, "device", "bInterfaceClass", NULL);
	g_autofree char *dev = NULL;
	g_autofree char *interface_class = NULL;

	if (g_file_get_contents(dev_path, &dev, NULL, NULL)) {
		g_autofree char *udev_name = g_strdup_printf("/run/udev/data/c%s", g_strstrip(dev));
		g_autofree char *udev_data = minst_context_read_file(ctx, udev_name, NULL);
		gboolean capture = FALSE;

		if (udev_data != NULL && minst_hw_v4l_capture_from_udev(udev_data, &capture)) {
			if (!capture)
				g_debug("%s is not a capture device (udev): not a camera", name);
			return capture;
		}
	}
	/* USB video class (0x0e): webcams; codecs are never USB */
	if (g_file_get_contents(class_path, &interface_class, NULL, NULL) &&
	    g_ascii_strtoull(g_strstrip(interface_class), NULL, 16) == 0x0e)
		return TRUE;
	g_debug("%s: no capture capability in the udev database and not a USB video-class "
		"interface: not a camera",
		name);
	return FALSE;
}

static gboolean
camera_cb(const char *entry_path, const char *name, gpointer data)
{
	CameraSearch *search = data;
	g_autofree char *index_path = g_build_filename(entry_path, "index", NULL);
	g_autofree char *index = NULL;

	/* a camera has several nodes (metadata, ...); its capture node has
	 * index 0; codec and scaler nodes (memory to memory) are not cameras */
	if (!g_str_has_prefix(name, "video"))
		return TRUE;
	if (g_file_get_contents(index_path, &index, NULL, NULL) &&
	    g_strcmp0(g_strstrip(index), "0") != 0)
		return TRUE;
	if (!v4l_node_is_camera(search->ctx, entry_path, name))
		return TRUE;
	search->present = TRUE;
	return FALSE;
}

static void
probe_camera(MinstContext *ctx, GPtrArray *samples)
{
	g_autofree char *class_dir = minst_context_build_path(ctx, "/sys/class");
	CameraSearch search = {ctx, FALSE};

	/* without a sysfs we cannot tell; without the video4linux class there
	 * is no camera */
	if (!g_file_test(class_dir, G_FILE_TEST_IS_DIR)) {
		g_debug("no /sys/class: skipping the camera");
		return;
	}
	for_each_entry(ctx, "/sys/class/video4linux", camera_cb, &search);
	minst_samples_add_value(samples, MINST_METRIC_HW_CAMERA,
				g_variant_new_boolean(search.present));
}

static void
probe_touchscreen(MinstContext *ctx, GPtrArray *samples)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *devices = minst_context_read_file(ctx, "/proc/bus/input/devices", &error);
	gboolean present;

	if (devices == NULL) {
		g_debug("skipping the touchscreen: %s", error->message);
		return;
	}
	if (minst_hw_touchscreen_from_input_devices(devices, &present))
		minst_samples_add_value(samples, MINST_METRIC_HW_TOUCHSCREEN,
					g_variant_new_boolean(present));
}

static gboolean
usb_cb(const char *entry_path, const char *name, gpointer data)
{
	gboolean *present = data;
	g_autofree char *vendor_path = g_build_filename(entry_path, "idVendor", NULL);
	g_autofree char *product_path = g_build_filename(entry_path, "idProduct", NULL);
	g_autofree char *vendor = NULL;
	g_autofree char *product = NULL;

	/* interfaces (1-2:1.0) have no ids */
	if (!g_file_get_contents(vendor_path, &vendor, NULL, NULL) ||
	    !g_file_get_contents(product_path, &product, NULL, NULL))
		return TRUE;
	if (minst_hw_is_fingerprint_reader(vendor, product)) {
		*present = TRUE;
		return FALSE;
	}
	return TRUE;
}

static void
probe_fingerprint(MinstContext *ctx, GPtrArray *samples)
{
	g_autofree char *bus_dir = minst_context_build_path(ctx, "/sys/bus");
	gboolean present = FALSE;

	if (!g_file_test(bus_dir, G_FILE_TEST_IS_DIR)) {
		g_debug("no /sys/bus: skipping the fingerprint reader");
		return;
	}
	for_each_entry(ctx, "/sys/bus/usb/devices", usb_cb, &present);
	minst_samples_add_value(samples, MINST_METRIC_HW_FINGERPRINT_READER,
				g_variant_new_boolean(present));
}

void
minst_probe_hardware(MinstContext *ctx, GPtrArray *samples)
{
	probe_cpu(ctx, samples);
	probe_ram(ctx, samples);
	probe_gpu(ctx, samples);
	probe_chassis(ctx, samples);
	probe_camera(ctx, samples);
	probe_touchscreen(ctx, samples);
	probe_fingerprint(ctx, samples);
}
