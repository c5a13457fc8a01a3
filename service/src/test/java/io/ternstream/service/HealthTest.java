package io.ternstream.service;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

@QuarkusTest
class HealthTest {
    @Test
    void readyWhenTheModelIsLoadedAndKafkaAnswers() {
        given().get("/q/health/ready").then().statusCode(200)
                .body("checks.find { it.name == 'ternstream' }.data.model", equalTo("true"))
                .body("checks.find { it.name == 'ternstream' }.data.kafka", equalTo(true));
        given().get("/q/health/live").then().statusCode(200);
        given().get("/q/metrics").then().statusCode(200).body(containsString("ternstream_batch_size"));
    }
}
