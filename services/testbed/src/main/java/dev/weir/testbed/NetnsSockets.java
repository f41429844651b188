package dev.weir.testbed;

import java.io.IOException;
import java.util.concurrent.Callable;
import jnr.ffi.LibraryLoader;

/**
 * Opens sockets inside a pod's network namespace from this JVM: the calling thread enters the
 * namespace (setns), creates the socket, and returns to its own. A socket belongs to the
 * namespace it was created in for the rest of its life, so a test or a prober can talk from and
 * to pods without starting a process per connection.
 */
public final class NetnsSockets {

    /** The few libc calls this needs. */
    public interface LibC {
        int open(String path, int flags);

        int close(int fd);

        int setns(int fd, int nstype);
    }

    private static final int O_RDONLY = 0;
    private static final int CLONE_NEWNET = 0x40000000;
    private static final LibC LIBC = LibraryLoader.create(LibC.class).load("c");

    private NetnsSockets() {
    }

    /** Runs the action with this thread in a network namespace: a name under /var/run/netns, or a path. */
    public static <T> T in(String netns, Callable<T> action) throws Exception {
        int home = LIBC.open("/proc/thread-self/ns/net", O_RDONLY);
        if (home < 0) {
            throw new IOException("cannot open this thread's network namespace");
        }
        int target = LIBC.open(netns.contains("/") ? netns : "/var/run/netns/" + netns, O_RDONLY);
        try {
            if (target < 0) {
                throw new IOException("no network namespace " + netns);
            }
            if (LIBC.setns(target, CLONE_NEWNET) != 0) {
                throw new IOException("cannot enter network namespace " + netns + " (root needed)");
            }
            try {
                return action.call();
            } finally {
                if (LIBC.setns(home, CLONE_NEWNET) != 0) {
                    // A thread stuck in a pod's namespace would open every later socket there.
                    throw new IllegalStateException("cannot return to this thread's network namespace");
                }
            }
        } finally {
            if (target >= 0) {
                LIBC.close(target);
            }
            LIBC.close(home);
        }
    }
}
