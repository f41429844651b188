package dev.weir.agent.datapath;

/** A libweir call failed; {@link #errno()} is the positive errno, the message libweir's own words. */
public final class DatapathException extends RuntimeException {

    private final int errno;

    public DatapathException(int errno, String message) {
        super(message + " (errno " + errno + ")");
        this.errno = errno;
    }

    public int errno() {
        return errno;
    }
}
