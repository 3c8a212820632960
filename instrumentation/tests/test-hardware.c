/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The Fedora Metrics authors
 */

#define G_LOG_DOMAIN "TestHardware"

#include "config.h"

#include <glib/gstdio.h>
#include <stdlib.h>

#include "minst-test-common.h"

static void
test_cpu_vendor(void)
{
	g_assert_cmpstr(minst_hw_cpu_vendor("processor\t: 0\nvendor_id\t: GenuineIntel\n"), ==,
			"intel");
	g_assert_cmpstr(minst_hw_cpu_vendor("vendor_id : AuthenticAMD\n"), ==, "amd");
	g_assert_cmpstr(minst_hw_cpu_vendor("vendor_id\t: HygonGenuine\n"), ==, "other");
	g_assert_cmpstr(minst_hw_cpu_vendor("processor\t: 0\nBogoMIPS\t: 48.00\n"
					    "CPU implementer\t: 0x41\nCPU part\t: 0xd0b\n"),
			==, "arm");
	g_assert_null(minst_hw_cpu_vendor(""));
	g_assert_null(minst_hw_cpu_vendor("garbage\n\n:::\n"));
}

static void
test_cpu_cores(void)
{
	g_assert_cmpuint(minst_hw_cpu_cores("processor : 0\nprocessor : 1\nprocessor : 2\n"), ==,
			 3);
	/* hyperthreads share a core id */
	g_assert_cmpuint(minst_hw_cpu_cores("processor : 0\nphysical id : 0\ncore id : 0\n\n"
					    "processor : 1\nphysical id : 0\ncore id : 0\n"),
			 ==, 1);
	g_assert_cmpuint(minst_hw_cpu_cores("processor : many\n"), ==, 0);
	g_assert_cmpuint(minst_hw_cpu_cores(""), ==, 0);
	g_assert_cmpstr(minst_bucket_cpu_cores(1), ==, "1");
	g_assert_cmpstr(minst_bucket_cpu_cores(2), ==, "2");
	g_assert_cmpstr(minst_bucket_cpu_cores(4), ==, "3-4");
	g_assert_cmpstr(minst_bucket_cpu_cores(6), ==, "5-8");
	g_assert_cmpstr(minst_bucket_cpu_cores(16), ==, "9-16");
	g_assert_cmpstr(minst_bucket_cpu_cores(24), ==, "17-32");
	g_assert_cmpstr(minst_bucket_cpu_cores(128), ==, "33+");
}

static void
test_ram(void)
{
	g_assert_cmpstr(minst_hw_ram_size("MemTotal:        1930000 kB\n"), ==, "<=2GiB");
	g_assert_cmpstr(minst_hw_ram_size("MemTotal:        3900000 kB\n"), ==, "4GiB");
	g_assert_cmpstr(minst_hw_ram_size("MemFree: 1 kB\nMemTotal:  15974312 kB\n"), ==, "16GiB");
	g_assert_cmpstr(minst_hw_ram_size("MemTotal:  12000000 kB\n"), ==, "16GiB");
	g_assert_cmpstr(minst_hw_ram_size("MemTotal:  131000000 kB\n"), ==, "64GiB+");
	g_assert_null(minst_hw_ram_size("MemTotal:  lots\n"));
	g_assert_null(minst_hw_ram_size("MemTotal:  1234 MB\n"));
	g_assert_null(minst_hw_ram_size("MemFree: 1 kB\n"));
	g_assert_null(minst_hw_ram_size(""));
}

static void
test_gpu_chassis(void)
{
	g_assert_cmpstr(minst_hw_gpu_vendor_from_pci_id("0x8086\n"), ==, "intel");
	g_assert_cmpstr(minst_hw_gpu_vendor_from_pci_id("0x1002"), ==, "amd");
	g_assert_cmpstr(minst_hw_gpu_vendor_from_pci_id("0x10DE\n"), ==, "nvidia");
	g_assert_cmpstr(minst_hw_gpu_vendor_from_pci_id("0x1af4\n"), ==, "virtual");
	g_assert_cmpstr(minst_hw_gpu_vendor_from_pci_id("0x5143\n"), ==, "other");
	g_assert_null(minst_hw_gpu_vendor_from_pci_id("garbage"));
	g_assert_null(minst_hw_gpu_vendor_from_pci_id(""));
	g_assert_null(minst_hw_gpu_vendor_from_pci_id("0x123456"));

	g_assert_cmpstr(minst_hw_chassis("10\n"), ==, "laptop");
	g_assert_cmpstr(minst_hw_chassis("3"), ==, "desktop");
	g_assert_cmpstr(minst_hw_chassis("31\n"), ==, "convertible");
	g_assert_cmpstr(minst_hw_chassis("30\n"), ==, "tablet");
	g_assert_cmpstr(minst_hw_chassis("23\n"), ==, "server");
	g_assert_cmpstr(minst_hw_chassis("1\n"), ==, "other");
	g_assert_null(minst_hw_chassis("desk\n"));
	g_assert_null(minst_hw_chassis(""));
}

static void
test_presence(void)
{
	gboolean present = TRUE;

	g_assert_false(minst_hw_touchscreen_from_input_devices("", &present));
	g_assert_false(present);
	/* a touchpad is not direct; a direct single-touch device is not a
	 * touchscreen here */
	g_assert_true(minst_hw_touchscreen_from_input_devices(
		"I: Bus=0018\nB: PROP=5\nB: ABS=2e0800000000003\n\n"
		"I: Bus=0003\nB: PROP=2\nB: ABS=3\n",
		&present));
	g_assert_false(present);
	g_assert_true(minst_hw_touchscreen_from_input_devices(
		"I: Bus=0018\nB: PROP=2\nB: ABS=3273800000000003\n", &present));
	g_assert_true(present);

	/* udev's ID_V4L_CAPABILITIES: a camera captures and outputs nothing */
	g_assert_true(minst_hw_v4l_capture_from_udev(
		"I:1\nE:ID_V4L_VERSION=2\nE:ID_V4L_CAPABILITIES=:capture:\nV:1\n", &present));
	g_assert_true(present);
	g_assert_true(minst_hw_v4l_capture_from_udev(
		"E:ID_V4L_CAPABILITIES=:capture:video_output:\n", &present));
	g_assert_false(present);
	g_assert_true(minst_hw_v4l_capture_from_udev("E:ID_V4L_CAPABILITIES=:\n", &present));
	g_assert_false(present);
	g_assert_false(minst_hw_v4l_capture_from_udev("I:1\nE:ID_V4L_VERSION=2\n", &present));
	g_assert_false(minst_hw_v4l_capture_from_udev("", &present));
	g_assert_false(present);

	g_assert_true(minst_hw_is_fingerprint_reader("06cb\n", "00bd\n"));
	g_assert_true(minst_hw_is_fingerprint_reader("27c6", "5110"));
	g_assert_true(minst_hw_is_fingerprint_reader("04f3", "0c4b"));
	g_assert_false(minst_hw_is_fingerprint_reader("04f3", "2234"));
	g_assert_false(minst_hw_is_fingerprint_reader("046d", "c52b"));
	g_assert_false(minst_hw_is_fingerprint_reader("", ""));
}

static void
test_laptop_intel(void)
{
	g_autoptr(MinstContext) ctx = minst_test_context_new("laptop-intel");
	g_autoptr(GPtrArray) samples = minst_samples_new();

	minst_probe_hardware(ctx, samples);
	minst_test_assert_samples_valid(samples, ctx->known_apps);
	minst_test_assert_value(samples, MINST_METRIC_HW_CPU_VENDOR, "intel");
	minst_test_assert_value(samples, MINST_METRIC_HW_CPU_CORES, "3-4");
	minst_test_assert_value(samples, MINST_METRIC_HW_RAM_SIZE, "16GiB");
	minst_test_assert_value(samples, MINST_METRIC_HW_GPU_VENDOR, "intel");
	g_assert_cmpuint(minst_test_count(samples, MINST_METRIC_HW_GPU_VENDOR), ==, 1);
	minst_test_assert_value(samples, MINST_METRIC_HW_CHASSIS, "laptop");
	minst_test_assert_bool(samples, MINST_METRIC_HW_CAMERA, TRUE);
	minst_test_assert_bool(samples, MINST_METRIC_HW_TOUCHSCREEN, TRUE);
	minst_test_assert_bool(samples, MINST_METRIC_HW_FINGERPRINT_READER, TRUE);
	g_assert_cmpuint(samples->len, ==, 8);
}

static void
test_desktop_amd_nvidia(void)
{
	g_autoptr(MinstContext) ctx = minst_test_context_new("desktop-amd-nvidia");
	g_autoptr(GPtrArray) samples = minst_samples_new();

	minst_probe_hardware(ctx, samples);
	minst_test_assert_samples_valid(samples, ctx->known_apps);
	minst_test_assert_value(samples, MINST_METRIC_HW_CPU_VENDOR, "amd");
	minst_test_assert_value(samples, MINST_METRIC_HW_CPU_CORES, "5-8");
	minst_test_assert_value(samples, MINST_METRIC_HW_RAM_SIZE, "32GiB");
	minst_test_assert_value(samples, MINST_METRIC_HW_GPU_VENDOR, "amd");
	minst_test_assert_value(samples, MINST_METRIC_HW_GPU_VENDOR, "nvidia");
	g_assert_cmpuint(minst_test_count(samples, MINST_METRIC_HW_GPU_VENDOR), ==, 2);
	minst_test_assert_value(samples, MINST_METRIC_HW_CHASSIS, "desktop");
	minst_test_assert_bool(samples, MINST_METRIC_HW_CAMERA, FALSE);
	/* an external USB touch panel without INPUT_PROP_DIRECT and MT */
	minst_test_assert_bool(samples, MINST_METRIC_HW_TOUCHSCREEN, FALSE);
	minst_test_assert_bool(samples, MINST_METRIC_HW_FINGERPRINT_READER, FALSE);
	g_assert_cmpuint(samples->len, ==, 9);
}

static void
test_vm_minimal(void)
{
	g_autoptr(MinstContext) ctx = minst_test_context_new("vm-minimal");
	g_autoptr(GPtrArray) samples = minst_samples_new();

	g_autofree char *log = NULL;

	/* no /sys at all: only what /proc says */
	minst_test_capture_begin();
	minst_probe_hardware(ctx, samples);
	log = minst_test_capture_end();
	minst_test_assert_logged(log, "no /sys/class: skipping the camera");
	minst_test_assert_logged(log, "no /sys/bus: skipping the fingerprint reader");
	minst_test_assert_logged(log, "skipping the chassis: ");
	minst_test_assert_logged(log, "skipping the touchscreen: ");
	minst_test_assert_samples_valid(samples, ctx->known_apps);
	minst_test_assert_value(samples, MINST_METRIC_HW_CPU_VENDOR, "amd");
	minst_test_assert_value(samples, MINST_METRIC_HW_CPU_CORES, "2");
	minst_test_assert_value(samples, MINST_METRIC_HW_RAM_SIZE, "32GiB");
	g_assert_cmpuint(samples->len, ==, 3);
}

static void
test_malformed(void)
{
	g_autoptr(MinstContext) ctx = minst_test_context_new("malformed");
	g_autoptr(GPtrArray) samples = minst_samples_new();

	g_autofree char *log = NULL;

	/* garbage everywhere: skipped values, no crash; the empty sysfs
	 * directories still say "no camera" and "no fingerprint reader" */
	minst_test_capture_begin();
	minst_probe_hardware(ctx, samples);
	log = minst_test_capture_end();
	/* each skipped value says what and why */
	minst_test_assert_logged(
		log, "cpuinfo has neither vendor_id nor CPU implementer: skipping the CPU vendor");
	minst_test_assert_logged(log, "cpuinfo lists no processor: skipping the core count");
	minst_test_assert_logged(log, "MemTotal is not a size in kB: skipping the RAM size");
	minst_test_assert_logged(log, "PCI vendor id “garbage” is not a hex number: skipping it");
	minst_test_assert_logged(log, "card1 has no PCI vendor: skipping it");
	minst_test_assert_logged(log, "chassis_type “desk” is not a number: skipping the chassis");
	minst_test_assert_logged(log,
				 "the input device list has no device: skipping the touchscreen");
	minst_test_assert_samples_valid(samples, ctx->known_apps);
	g_assert_null(minst_samples_find(samples, MINST_METRIC_HW_CPU_VENDOR, NULL));
	g_assert_null(minst_samples_find(samples, MINST_METRIC_HW_CPU_CORES, NULL));
	g_assert_null(minst_samples_find(samples, MINST_METRIC_HW_RAM_SIZE, NULL));
	g_assert_null(minst_samples_find(samples, MINST_METRIC_HW_GPU_VENDOR, NULL));
	g_assert_null(minst_samples_find(samples, MINST_METRIC_HW_CHASSIS, NULL));
	g_assert_null(minst_samples_find(samples, MINST_METRIC_HW_TOUCHSCREEN, NULL));
	minst_test_assert_bool(samples, MINST_METRIC_HW_CAMERA, FALSE);
	minst_test_assert_bool(samples, MINST_METRIC_HW_FINGERPRINT_READER, FALSE);
	g_assert_cmpuint(samples->len, ==, 2);
}

/* a board whose only video4linux nodes are codecs and an ISP */
static void
test_arm_board(void)
{
	g_autoptr(MinstContext) ctx = minst_test_context_new("arm-board");
	g_autoptr(GPtrArray) samples = minst_samples_new();
	g_autofree char *log = NULL;

	minst_test_capture_begin();
	minst_probe_hardware(ctx, samples);
	log = minst_test_capture_end();
	minst_test_assert_samples_valid(samples, ctx->known_apps);
	minst_test_assert_value(samples, MINST_METRIC_HW_CPU_VENDOR, "arm");
	minst_test_assert_value(samples, MINST_METRIC_HW_CPU_CORES, "3-4");
	minst_test_assert_value(samples, MINST_METRIC_HW_RAM_SIZE, "4GiB");
	minst_test_assert_bool(samples, MINST_METRIC_HW_CAMERA, FALSE);
	minst_test_assert_logged(log, "video10 is not a capture device (udev): not a camera");
	minst_test_assert_logged(log, "video11 is not a capture device (udev): not a camera");
	minst_test_assert_logged(log, "video12: no capture capability in the udev database and "
				      "not a USB video-class interface: not a camera");
	g_assert_cmpuint(samples->len, ==, 4);
}

static void
write_file(const char *dir, const char *name, const char *contents)
{
	g_autofree char *path = g_build_filename(dir, name, NULL);
	g_autoptr(GError) error = NULL;

	g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
	g_file_set_contents(path, contents, -1, &error);
	g_assert_no_error(error);
}

/* without a udev database, a USB video-class interface is a camera and
 * anything else is not; the udev database, when it knows, decides */
static void
test_camera_sources(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *root = g_dir_make_tmp("minst-camera-XXXXXX", &error);
	g_autofree char *node = NULL;
	g_autofree char *device = NULL;
	g_autofree char *udev = NULL;
	const struct {
		const char *interface_class; /* NULL: no file */
		const char *udev;	     /* NULL: no entry */
		gboolean camera;
	} cases[] = {
		{"0e\n", NULL, TRUE},
		{"ff\n", NULL, FALSE},
		{NULL, NULL, FALSE},
		{"0e\n", "E:ID_V4L_CAPABILITIES=:\n", FALSE},
		{NULL, "E:ID_V4L_CAPABILITIES=:capture:\n", TRUE},
		{"ff\n", "E:ID_V4L_VERSION=2\n", FALSE},
	};

	g_assert_no_error(error);
	node = g_build_filename(root, "sys", "class", "video4linux", "video0", NULL);
	device = g_build_filename(node, "device", NULL);
	udev = g_build_filename(root, "run", "udev", "data", NULL);
	write_file(node, "index", "0\n");
	write_file(node, "dev", "81:0\n");
	g_assert_cmpint(g_mkdir_with_parents(device, 0700), ==, 0);
	g_assert_cmpint(g_mkdir_with_parents(udev, 0700), ==, 0);
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(MinstContext) ctx = minst_context_new(root);
		g_autoptr(GPtrArray) samples = minst_samples_new();
		g_autofree char *class_file = g_build_filename(device, "bInterfaceClass", NULL);
		g_autofree char *udev_file = g_build_filename(udev, "c81:0", NULL);

		g_unlink(class_file);
		g_unlink(udev_file);
		if (cases[i].interface_class != NULL)
			write_file(device, "bInterfaceClass", cases[i].interface_class);
		if (cases[i].udev != NULL)
			write_file(udev, "c81:0", cases[i].udev);
		minst_probe_hardware(ctx, samples);
		g_test_message("case %u", i);
		minst_test_assert_bool(samples, MINST_METRIC_HW_CAMERA, cases[i].camera);
	}
	{
		g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", root);
		g_assert_cmpint(system(cmd), ==, 0);
	}
}

static void
test_missing_root(void)
{
	g_autoptr(MinstContext) ctx = minst_context_new("/nonexistent/metrics-root");
	g_autoptr(GPtrArray) samples = minst_samples_new();

	minst_probe_hardware(ctx, samples);
	g_assert_cmpuint(samples->len, ==, 0);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	g_test_add_func("/metrics/instrumentation/hardware/cpu-vendor", test_cpu_vendor);
	g_test_add_func("/metrics/instrumentation/hardware/cpu-cores", test_cpu_cores);
	g_test_add_func("/metrics/instrumentation/hardware/ram", test_ram);
	g_test_add_func("/metrics/instrumentation/hardware/gpu-chassis", test_gpu_chassis);
	g_test_add_func("/metrics/instrumentation/hardware/presence", test_presence);
	g_test_add_func("/metrics/instrumentation/hardware/laptop-intel", test_laptop_intel);
	g_test_add_func("/metrics/instrumentation/hardware/desktop-amd-nvidia",
			test_desktop_amd_nvidia);
	g_test_add_func("/metrics/instrumentation/hardware/vm-minimal", test_vm_minimal);
	g_test_add_func("/metrics/instrumentation/hardware/malformed", test_malformed);
	g_test_add_func("/metrics/instrumentation/hardware/arm-board", test_arm_board);
	g_test_add_func("/metrics/instrumentation/hardware/camera-sources", test_camera_sources);
	g_test_add_func("/metrics/instrumentation/hardware/missing-root", test_missing_root);
	return g_test_run();
}
