package dev.weir.platform;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * One PostgreSQL role per service, owning its schema and nothing else: a service that is taken
 * over reads and writes its own tables only, and none is a superuser. Run at every start, so that
 * a data directory from before the roles existed is brought in line (its tables handed over).
 */
final class DatabaseRoles {

    /** The services that keep state in PostgreSQL; each schema's role is weir_SCHEMA. */
    static final List<String> SCHEMAS = List.of("policy", "dns", "alerting");

    private DatabaseRoles() {
    }

    static String role(String schema) {
        return "weir_" + schema;
    }

    /**
     * @param password the role's password: a generated secret of URL-safe characters only (it is
     *     written into the statement, which takes no parameters)
     */
    static void ensure(String jdbcUrl, String superuser, String superuserPassword, String schema, String password)
            throws SQLException {
        if (!SCHEMAS.contains(schema) || !password.matches("[A-Za-z0-9_-]{16,}")) {
            throw new IllegalArgumentException("no role for schema " + schema + " with that password");
        }
        String role = role(schema);
        try (Connection c = DriverManager.getConnection(jdbcUrl, superuser, superuserPassword);
                Statement s = c.createStatement()) {
            s.execute("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '" + role + "') THEN "
                    + "CREATE ROLE " + role + "; END IF; END $$");
            s.execute("ALTER ROLE " + role + " WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION PASSWORD '"
                    + password + "'");
            s.execute("CREATE SCHEMA IF NOT EXISTS " + schema + " AUTHORIZATION " + role);
            s.execute("ALTER SCHEMA " + schema + " OWNER TO " + role);
            // Tables and views made before (by the platform's own migrations, or an older release); their
            // sequences and indexes follow them.
            s.execute("DO $$ DECLARE r record; BEGIN FOR r IN SELECT c.relname FROM pg_class c JOIN pg_namespace n "
                    + "ON n.oid = c.relnamespace WHERE n.nspname = '" + schema + "' AND c.relkind IN ('r', 'p', 'v', 'm') "
                    + "AND pg_get_userbyid(c.relowner) <> '" + role + "' LOOP EXECUTE format('ALTER TABLE %I.%I OWNER TO %I', '"
                    + schema + "', r.relname, '" + role + "'); END LOOP; END $$");
            // Sequences of their own (an identity counter); those of a serial column followed its table.
            s.execute("DO $$ DECLARE r record; BEGIN FOR r IN SELECT c.relname FROM pg_class c JOIN pg_namespace n "
                    + "ON n.oid = c.relnamespace WHERE n.nspname = '" + schema + "' AND c.relkind = 'S' "
                    + "AND pg_get_userbyid(c.relowner) <> '" + role + "' AND NOT EXISTS (SELECT 1 FROM pg_depend d "
                    + "WHERE d.objid = c.oid AND d.deptype IN ('a', 'i')) LOOP EXECUTE format('ALTER SEQUENCE %I.%I OWNER TO %I', '"
                    + schema + "', r.relname, '" + role + "'); END LOOP; END $$");
            s.execute("REVOKE ALL ON SCHEMA " + schema + " FROM PUBLIC");
            s.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC");
            s.execute("REVOKE ALL ON DATABASE " + EmbeddedPostgres.DATABASE + " FROM PUBLIC");
            s.execute("GRANT CONNECT, TEMPORARY ON DATABASE " + EmbeddedPostgres.DATABASE + " TO " + role);
        }
    }
}
