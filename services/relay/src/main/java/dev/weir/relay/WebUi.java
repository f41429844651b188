package dev.weir.relay;

import org.springframework.context.annotation.Configuration;
import org.springframework.core.task.SimpleAsyncTaskExecutor;
import org.springframework.web.servlet.config.annotation.AsyncSupportConfigurer;
import org.springframework.web.servlet.config.annotation.ViewControllerRegistry;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;

/**
 * The relay's web side: the UI's page at /ui/ (static files under /ui/), and a thread per live
 * flow stream. Streams last as long as their client, so they must not take the threads of the
 * shared task pool (eight of them would starve every later stream); FlowTail caps their number.
 */
@Configuration
public class WebUi implements WebMvcConfigurer {

    @Override
    public void addViewControllers(ViewControllerRegistry registry) {
        registry.addViewController("/ui/").setViewName("forward:/ui/index.html");
    }

    @Override
    public void configureAsyncSupport(AsyncSupportConfigurer configurer) {
        SimpleAsyncTaskExecutor streams = new SimpleAsyncTaskExecutor("weir-relay-stream-");
        streams.setDaemon(true);
        configurer.setTaskExecutor(streams);
    }
}
