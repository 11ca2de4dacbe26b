// SPDX-License-Identifier: GPL-2.0
/*
 * iptapdump: the paths of cgroup IDs, as records carry them.
 *
 * A cgroup v2's ID is the inode number of its directory, so the paths
 * come from walking the cgroup2 mount.  The table is read again when an
 * ID is not in it, at most once a second: cgroups come and go.
 */
#include <errno.h>
#include <ftw.h>
#include <mntent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "iptapdump.h"

struct cgroup {
	uint64_t id;
	char *path;
};

static struct cgroup *table;
static size_t ntable, captable;
static size_t rootlen;			/* of the mount point */
static int walk_failed;
static time_t scanned;

/* Where cgroup2 is mounted, or NULL. */
static const char *cgroup_mount(void)
{
	static char dir[4096];
	struct mntent *m;
	FILE *f;

	if (dir[0])
		return dir;
	f = setmntent("/proc/self/mounts", "r");
	if (!f)
		return NULL;
	while ((m = getmntent(f))) {
		if (!strcmp(m->mnt_type, "cgroup2") &&
		    strlen(m->mnt_dir) < sizeof(dir)) {
			strcpy(dir, m->mnt_dir);
			break;
		}
	}
	endmntent(f);
	return dir[0] ? dir : NULL;
}

static int add_dir(const char *fpath, const struct stat *st, int type,
		   struct FTW *ftw)
{
	struct cgroup *t;

	(void)ftw;
	if (type != FTW_D)
		return 0;
	if (ntable == captable) {
		captable = captable ? 2 * captable : 256;
		t = realloc(table, captable * sizeof(*table));
		if (!t) {
			walk_failed = 1;
			return 1;
		}
		table = t;
	}
	/* "/" for the root, as /proc/PID/cgroup shows it. */
	table[ntable].path = strdup(fpath[rootlen] ? fpath + rootlen : "/");
	if (!table[ntable].path) {
		walk_failed = 1;
		return 1;
	}
	table[ntable++].id = st->st_ino;
	return 0;
}

static int by_id(const void *a, const void *b)
{
	const struct cgroup *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static void clear(void)
{
	while (ntable)
		free(table[--ntable].path);
}

/* Walk dir (the mount, or a cgroup in it) into the table. */
static int walk(const char *mnt, const char *dir)
{
	clear();
	rootlen = strlen(mnt);
	walk_failed = 0;
	if (nftw(dir, add_dir, 16, FTW_PHYS) || walk_failed)
		return -1;
	return 0;
}

const char *cgroup_path(uint64_t id)
{
	struct cgroup key = { .id = id }, *hit;
	const char *mnt = cgroup_mount();
	time_t now = time(NULL);

	if (!mnt)
		return NULL;
	hit = ntable ? bsearch(&key, table, ntable, sizeof(*table), by_id) :
		       NULL;
	if (hit || now == scanned)
		return hit ? hit->path : NULL;
	scanned = now;
	walk(mnt, mnt);
	qsort(table, ntable, sizeof(*table), by_id);
	hit = ntable ? bsearch(&key, table, ntable, sizeof(*table), by_id) :
		       NULL;
	return hit ? hit->path : NULL;
}

int cgroup_ids(const char *path, uint64_t *ids, int max, int *n)
{
	const char *mnt = cgroup_mount();
	char dir[8192];
	struct stat st;
	size_t i;

	if (!mnt) {
		errno = ENOENT;
		return -1;
	}
	if (snprintf(dir, sizeof(dir), "%s%s", mnt, path) >= (int)sizeof(dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (stat(dir, &st))
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	if (walk(mnt, dir))
		return -1;
	*n = (int)ntable;
	if (ntable > (size_t)max) {
		errno = E2BIG;
		return -1;
	}
	for (i = 0; i < ntable; i++)
		ids[i] = table[i].id;
	/* The table is the subtree only: the next lookup reads it all. */
	clear();
	scanned = 0;
	return 0;
}
