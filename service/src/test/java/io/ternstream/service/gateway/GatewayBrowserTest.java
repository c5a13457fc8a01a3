package io.ternstream.service.gateway;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import java.io.File;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Keys;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * The chat page in a real browser (Debian's chromium, headless, driven through its chromedriver;
 * only loopback traffic): it connects its WebSocket, streams a reply, shows time to first token,
 * and the screenshot is kept in target/screenshots/ as a test artifact.
 */
@QuarkusTest
@TestProfile(GatewayTestProfile.class)
class GatewayBrowserTest {
    @TestHTTPResource("/index.html")
    URL page;

    WebDriver driver;

    @BeforeEach
    void startBrowser() throws Exception {
        var options = new ChromeOptions();
        options.setBinary("/usr/bin/chromium");
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
                "--disable-quic", "--window-size=1100,800",
                "--user-data-dir=" + Files.createTempDirectory("chrome-profile"));
        // the driver path is explicit, so Selenium Manager never runs (it would try to reach the network)
        var service = new ChromeDriverService.Builder().usingDriverExecutable(new File("/usr/bin/chromedriver"))
                .usingAnyFreePort().build();
        driver = new ChromeDriver(service, options);
    }

    @AfterEach
    void stopBrowser() {
        if (driver != null) {
            driver.quit();
        }
    }

    @Test
    void chatPageStreamsAReplyAndShowsTimeToFirstToken() throws Exception {
        driver.get(page.toString());
        var key = driver.findElement(By.id("apiKey"));
        key.sendKeys(GatewayTestProfile.BROWSER, Keys.TAB); // change event: reconnect with the key
        await().atMost(Duration.ofSeconds(30))
                .until(() -> driver.findElement(By.id("status")).getText().startsWith("connected"));
        driver.findElement(By.id("maxTokens")).clear();
        driver.findElement(By.id("maxTokens")).sendKeys("48");
        driver.findElement(By.id("prompt")).sendKeys("Tell me about Kafka", Keys.ENTER);

        await().atMost(Duration.ofSeconds(60)).until(() -> !driver.findElements(
                By.cssSelector(".assistant[data-finish]")).isEmpty());
        String reply = driver.findElement(By.cssSelector(".assistant")).getText();
        String stats = driver.findElement(By.id("stats")).getText();
        assertTrue(driver.findElement(By.cssSelector(".user")).getText().contains("Tell me about Kafka"));
        assertTrue(stats.matches("time to first token: \\d+ ms · tokens/s: [\\d.]+ · tokens: 48.*"), stats);
        assertTrue(!reply.isBlank() || stats.contains("tokens: 48"), "streamed text appeared: " + reply);

        Path out = Path.of("target", "screenshots");
        Files.createDirectories(out);
        File shot = ((TakesScreenshot) driver).getScreenshotAs(OutputType.FILE);
        Files.copy(shot.toPath(), out.resolve("chat-page.png"), StandardCopyOption.REPLACE_EXISTING);
        assertTrue(Files.size(out.resolve("chat-page.png")) > 1000);
    }
}
