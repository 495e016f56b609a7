import allm
from allm.providers.fake import finish, text


def test_generate_folds_the_fake_stream(driver):
    engine = allm.Engine(adapter="fake", adapter_opts={"script": [text("hi"), finish("stop")]})
    response = driver.generate(engine, [allm.user("say hi")])
    assert (response.text, response.finish_reason) == ("hi", "stop")
