package dev.weir.platform;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real PostgreSQL server from the machine's PostgreSQL binaries, on loopback only, with a data
 * directory of its own that survives restarts. PostgreSQL refuses to run as root, so when the
 * platform runs as root (it must, for the datapath) the server runs as the {@code postgres} user.
 */
final class EmbeddedPostgres implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedPostgres.class);
    static final String SUPERUSER = "weir";
    static final String DATABASE = "weir";
    private static final String SERVICE_USER = "postgres";

    private final Path directory;
    private final int port;
    private final String password;
    private ManagedProcess process;

    EmbeddedPostgres(Path directory, int port, String password) {
        this.directory = directory;
        this.port = port;
        this.password = password;
    }

    String jdbcUrl() {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + DATABASE;
    }

    String user() {
        return SUPERUSER;
    }

    String password() {
        return password;
    }

    void start(Duration timeout) throws IOException, InterruptedException, SQLException {
        Path bin = binaries();
        Path data = directory.resolve("data");
        boolean asServiceUser = Platform.runningAsRoot();
        if (!Files.exists(data.resolve("PG_VERSION"))) {
            initdb(bin, data, asServiceUser);
        }
        List<String> command = asUser(asServiceUser, List.of(bin.resolve("postgres").toString(), "-D", data.toString(),
                "-p", Integer.toString(port), "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
                "-c", "max_connections=200", "-c", "fsync=on"));
        // The log names every client and statement that failed: its owner's (and root's) only.
        Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwx------"));
        // INT is PostgreSQL's fast shutdown: it does not wait for clients to disconnect.
        process = ManagedProcess.start("postgres", command, "INT", directory.resolve("postgres.log"), Map.of("LC_ALL", "C"));
        awaitReady(timeout);
        createDatabase();
    }

    private void initdb(Path bin, Path data, boolean asServiceUser) throws IOException, InterruptedException {
        Files.createDirectories(directory);
        Path pwfile = directory.resolve(".initdb-password");
        Files.writeString(pwfile, password, StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(pwfile, PosixFilePermissions.fromString("rw-------"));
        if (asServiceUser) {
            chown(directory);
            chown(pwfile);
        }
        LOG.info("initialising PostgreSQL data directory {}", data);
        try {
            ProcessRunner.run(asUser(asServiceUser, List.of(bin.resolve("initdb").toString(), "-D", data.toString(),
                    "-U", SUPERUSER, "--pwfile=" + pwfile, "--auth=scram-sha-256", "-E", "UTF8", "--locale=C")), 180);
        } finally {
            Files.deleteIfExists(pwfile);
        }
    }

    private void awaitReady(Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (!process.isAlive()) {
                throw new IOException("PostgreSQL exited while starting; its log ends with:\n" + process.logTail(30));
            }
            try (Connection ignored = DriverManager.getConnection(adminUrl(), SUPERUSER, password)) {
                return;
            } catch (SQLException notYet) {
                if (System.nanoTime() > deadline) {
                    throw new IOException("PostgreSQL did not accept connections within " + timeout
                            + " (" + notYet.getMessage() + "); its log ends with:\n" + process.logTail(30));
                }
            }
            Thread.sleep(200);
        }
    }

    private void createDatabase() throws SQLException {
        try (Connection c = DriverManager.getConnection(adminUrl(), SUPERUSER, password);
                var exists = c.prepareStatement("SELECT 1 FROM pg_database WHERE datname = ?")) {
            exists.setString(1, DATABASE);
            if (!exists.executeQuery().next()) {
                try (var create = c.createStatement()) {
                    create.execute("CREATE DATABASE " + DATABASE);
                }
            }
        }
    }

    private String adminUrl() {
        return "jdbc:postgresql://127.0.0.1:" + port + "/postgres?connectTimeout=2";
    }

    private static List<String> asUser(boolean asServiceUser, List<String> command) {
        if (!asServiceUser) {
            return command;
        }
        // setpriv execs the command itself, so signals reach PostgreSQL directly.
        List<String> wrapped = new ArrayList<>(List.of("setpriv", "--reuid=" + SERVICE_USER, "--regid=" + SERVICE_USER,
                "--init-groups", "--"));
        wrapped.addAll(command);
        return wrapped;
    }

    private static void chown(Path path) throws IOException {
        UserPrincipalLookupService lookup = FileSystems.getDefault().getUserPrincipalLookupService();
        UserPrincipal user = lookup.lookupPrincipalByName(SERVICE_USER);
        GroupPrincipal group = lookup.lookupPrincipalByGroupName(SERVICE_USER);
        PosixFileAttributeView view = Files.getFileAttributeView(path, PosixFileAttributeView.class);
        view.setOwner(user);
        view.setGroup(group);
    }

    /** The newest PostgreSQL server binaries on this machine. */
    static Path binaries() throws IOException {
        Optional<Path> fromEnv = Optional.ofNullable(System.getenv("WEIR_PG_BIN")).map(Path::of);
        if (fromEnv.isPresent()) {
            return fromEnv.get();
        }
        Path debian = Path.of("/usr/lib/postgresql");
        if (Files.isDirectory(debian)) {
            try (Stream<Path> versions = Files.list(debian)) {
                Optional<Path> newest = versions.map(v -> v.resolve("bin"))
                        .filter(b -> Files.isExecutable(b.resolve("postgres")))
                        .max(Comparator.comparingInt(b -> Integer.parseInt(b.getParent().getFileName().toString()
                                .replaceAll("\\D", "0"))));
                if (newest.isPresent()) {
                    return newest.get();
                }
            }
        }
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "initdb")) && Files.isExecutable(Path.of(dir, "postgres"))) {
                return Path.of(dir, "initdb").toRealPath().getParent();
            }
        }
        throw new IOException("no PostgreSQL server binaries found: install Debian's postgresql package, "
                + "or set WEIR_PG_BIN to the directory holding initdb and postgres");
    }

    boolean isAlive() {
        return process != null && process.isAlive();
    }

    long pid() {
        return process == null ? -1 : process.pid();
    }

    @Override
    public void close() {
        if (process != null) {
            process.stop(Duration.ofSeconds(60));
        }
    }
}
