package dev.weir.platform;

import java.util.LinkedHashMap;
import java.util.Map;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;

/**
 * The Flyway migrations of every service that keeps state in PostgreSQL, each in a schema of its
 * own with its own history table, so services evolve their tables independently.
 */
final class Migrations {

    /** Service schema → migrations location. */
    static final Map<String, String> SERVICES = new LinkedHashMap<>();

    static {
        SERVICES.put("policy", "classpath:db/policy");
    }

    private Migrations() {
    }

    /** @return schema → migrations applied now (0 when it was up to date) */
    static Map<String, Integer> migrate(String jdbcUrl, String user, String password) {
        Map<String, Integer> applied = new LinkedHashMap<>();
        SERVICES.forEach((schema, location) -> {
            MigrateResult result = Flyway.configure()
                    .dataSource(jdbcUrl, user, password)
                    .schemas(schema)
                    .defaultSchema(schema)
                    .createSchemas(true)
                    .locations(location)
                    .load()
                    .migrate();
            applied.put(schema, result.migrationsExecuted);
        });
        return applied;
    }
}
