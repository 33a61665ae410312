/*
 * storelock.c - the store's lease (see storelock.h for the protocol).
 *
 * Cost on every command: two opens, two flocks, one close and one fstat,
 * about 10 us; nothing per object. Invariant: while gc holds STORE/lock
 * exclusively, no other rp process has the store open, except one started
 * by a stage of a process that had it open before (which gc refuses to be).
 * A process that must wait prints one line on stderr, then blocks.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "store/storelock.h"
#include "util/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define LEASE_ENV "RP_STORE_LEASE"

/* Opens `path` for flock: read-write (created), else read-only. -1 with errno. */
static int open_lockfile(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);

	if (fd < 0 && (errno == EACCES || errno == EROFS || errno == EPERM))
		fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd;
}

/* flock(fd, op), saying `why` on stderr first when it has to wait. 0 or -1 (errno). */
static int flock_or_say(int fd, int op, const char *why)
{
	if (flock(fd, op | LOCK_NB) == 0)
		return 0;
	if (errno != EWOULDBLOCK)
		return -1;
	fprintf(stderr, "%s: %s\n", rp_progname, why);
	while (flock(fd, op) < 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

static char *gate_wait_msg(int gate_fd, const char *root, const char *another)
{
	char pid[32];

	fs_lock_pid_read(gate_fd, pid, sizeof(pid));
	return xasprintf("waiting for %s'rp gc'%s%s%s to finish with the store '%s'",
			 another, *pid ? " (pid " : "", pid, *pid ? ")" : "", root);
}

/*
 * ", pid 12, 34": the processes other than this one that hold or wait for a
 * flock on the file `fd` (from /proc/locks; "" when it cannot be read).
 */
static void lock_users(int fd, char *out, size_t size)
{
	struct stat sb;
	char line[256];
	FILE *f;
	size_t len = 0;
	int n = 0;

	out[0] = '\0';
	if (fstat(fd, &sb) < 0 || !(f = fopen("/proc/locks", "re")))
		return;
	while (fgets(line, sizeof(line), f) && n < 8) {
		char kind[16], adv[16], mode[16];
		unsigned maj, mnr;
		unsigned long ino;
		long pid;
		char *p = strchr(line, ':');

		if (!p)
			continue;
		p++;
		if (strstr(p, "->"))
			continue;      /* a waiter, not a holder */
		if (sscanf(p, "%15s %15s %15s %ld %x:%x:%lu", kind, adv, mode, &pid, &maj, &mnr,
			   &ino) != 7 || strcmp(kind, "FLOCK"))
			continue;
		if (maj != major(sb.st_dev) || mnr != minor(sb.st_dev) || ino != sb.st_ino ||
		    pid == (long)getpid())
			continue;
		len += (size_t)snprintf(out + len, size - len, "%s%ld", n ? ", " : ", pid ", pid);
		if (len >= size) {
			out[0] = '\0';
			break;
		}
		n++;
	}
	fclose(f);
}

/* 1 when RP_STORE_LEASE names the file `fd` and a live ancestor rp set it. */
static int lease_inherited(int fd)
{
	const char *v = getenv(LEASE_ENV);
	unsigned long long dev, ino;
	long pid;
	struct stat sb;

	if (!v || sscanf(v, "%llu:%llu:%ld", &dev, &ino, &pid) != 3 || fstat(fd, &sb) < 0)
		return 0;
	if (dev != (unsigned long long)sb.st_dev || ino != (unsigned long long)sb.st_ino ||
	    pid <= 0 || pid == (long)getpid())
		return 0;
	return !fs_pid_is_gone(pid);
}

static void lease_export(int fd)
{
	struct stat sb;
	char v[80];

	if (fstat(fd, &sb) < 0)
		return;
	snprintf(v, sizeof(v), "%llu:%llu:%ld", (unsigned long long)sb.st_dev,
		 (unsigned long long)sb.st_ino, (long)getpid());
	setenv(LEASE_ENV, v, 1);
}

int store_lease_take(struct store_lease *l, const char *root, struct rp_err *err)
{
	char *path = xasprintf("%s/lock", root);
	char *gate = NULL, *why = NULL;
	int gfd = -1, ret = -1;

	l->fd = l->gate_fd = -1;
	l->inherited = 0;
	l->fd = open_lockfile(path);
	if (l->fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR) {
			struct stat sb;

			/* no store here yet, or no lock file in a store we cannot write */
			ret = stat(root, &sb) < 0 ? 1 : 0;
		} else {
			ret = rp_err_set(err, RP_ERR_IO, "cannot open '%s': %s", path,
					 strerror(errno));
		}
		goto out;
	}
	if (lease_inherited(l->fd)) {
		l->inherited = 1;
		why = xasprintf("waiting for 'rp gc' to finish with the store '%s'", root);
		if (flock_or_say(l->fd, LOCK_SH, why) < 0)
			goto fail;
		ret = 0;
		goto out;
	}
	gate = xasprintf("%s/gc.lock", root);
	gfd = open_lockfile(gate);
	if (gfd < 0 && errno != ENOENT) {
		ret = rp_err_set(err, RP_ERR_IO, "cannot open '%s': %s", gate, strerror(errno));
		goto out;
	}
	if (gfd >= 0) {
		if (flock(gfd, LOCK_SH | LOCK_NB) < 0) {
			if (errno != EWOULDBLOCK)
				goto fail_gate;
			why = gate_wait_msg(gfd, root, "");
			if (flock_or_say(gfd, LOCK_SH, why) < 0)
				goto fail_gate;
		}
	}
	/* only a gc holds STORE/lock exclusively, and it holds the gate too */
	if (flock_or_say(l->fd, LOCK_SH, "waiting for 'rp gc' to finish with the store") < 0)
		goto fail;
	lease_export(l->fd);
	ret = 0;
	goto out;
fail_gate:
	ret = rp_err_set(err, RP_ERR_IO, "cannot lock '%s': %s", gate, strerror(errno));
	goto out;
fail:
	ret = rp_err_set(err, RP_ERR_IO, "cannot lock '%s': %s", path, strerror(errno));
out:
	if (gfd >= 0)
		close(gfd);
	if (ret != 0)
		store_lease_release(l);
	free(why);
	free(gate);
	free(path);
	return ret;
}

int store_lease_exclusive(struct store_lease *l, const char *root, struct rp_err *err)
{
	char *gate = xasprintf("%s/gc.lock", root);
	char *why = NULL, users[160];
	int ret = -1;

	if (l->inherited) {
		rp_err_set(err, RP_ERR_INPUT,
			   "cannot collect garbage in the store '%s' from a stage of an rp that uses it", root);
		goto out;
	}
	if (l->fd < 0) {
		rp_err_set(err, RP_ERR_IO, "cannot lock the store '%s': it is not writable here", root);
		goto out;
	}
	/* a gc waiting at the gate while holding the lease would deadlock another */
	flock(l->fd, LOCK_UN);
	l->gate_fd = open(gate, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
	if (l->gate_fd < 0) {
		rp_err_set(err, RP_ERR_IO, "cannot open '%s': %s", gate, strerror(errno));
		goto out;
	}
	if (flock(l->gate_fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK)
			goto fail_gate;
		why = gate_wait_msg(l->gate_fd, root, "another ");
		if (flock_or_say(l->gate_fd, LOCK_EX, why) < 0)
			goto fail_gate;
		free(why);
		why = NULL;
	}
	fs_lock_pid_write(l->gate_fd);
	if (flock(l->fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK)
			goto fail;
		lock_users(l->fd, users, sizeof(users));
		why = xasprintf("waiting for the rp processes using the store '%s' to finish%s",
				root, users);
		if (flock_or_say(l->fd, LOCK_EX, why) < 0)
			goto fail;
	}
	ret = 0;
	goto out;
fail_gate:
	rp_err_set(err, RP_ERR_IO, "cannot lock '%s': %s", gate, strerror(errno));
	goto out;
fail:
	rp_err_set(err, RP_ERR_IO, "cannot lock '%s/lock': %s", root, strerror(errno));
out:
	free(why);
	free(gate);
	return ret;
}

void store_lease_release(struct store_lease *l)
{
	if (l->fd >= 0)
		close(l->fd);
	if (l->gate_fd >= 0)
		close(l->gate_fd);
	l->fd = l->gate_fd = -1;
}
