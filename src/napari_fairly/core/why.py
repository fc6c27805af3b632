"""Why this matters: one short note for every step, check and form field.

Written for this project after the principles of the GeDeM/RTmfm guide of good
practice (file naming §3.1.3, REMBI, Nyquist sampling and "generate the least data
possible" §2.2, saturation, raw data read-only §4.1, checksums, 3-2-1 backups §3.3).
The panels show them as tooltips and expandable notes; they are English, marked
``N_`` and translated when shown. Qt-free.
"""

from __future__ import annotations

from napari_fairly.core.i18n import N_, _

STEPS: dict[str, str] = {
    "open": N_(
        "The raw file is the reference for everything that follows. It is opened "
        "read-only and is never changed, moved or renamed (raw data stay as the "
        "microscope wrote them); its checksum, taken at the save, proves later that "
        "a copy is identical."
    ),
    "metadata": N_(
        "The file's own metadata (pixel size, objective, wavelengths, exposure) is "
        "what makes the image measurable and the acquisition reproducible. It is "
        "read from the file, not retyped; what is missing is best found now, at "
        "the microscope, while someone still knows it."
    ),
    "form": N_(
        "REMBI describes a bioimage so that others can find and reuse it: the "
        "study, the sample, how it was imaged. The name follows the guide's "
        "convention (date_project_sample_creator_condition_type_version), short and "
        "without special characters, so the dataset can be found and sorted "
        "without opening it."
    ),
    "checks": N_(
        "A problem found at the microscope can still be fixed by acquiring again; "
        "found later, it cannot. Sampling at Nyquist keeps all the detail while "
        "generating the least data possible; pixels at the ceiling are not "
        "measurements; a poor signal-to-noise ratio makes intensities imprecise."
    ),
    "save": N_(
        "The dataset is written as OME-Zarr, an open format, with its metadata, "
        "checksums and quality report beside it, and verified before it appears; "
        "the raw file stays as it was. Keep three copies on two different media, "
        "one of them off site (3-2-1 rule): this save makes one copy."
    ),
}

CHECKS: dict[str, str] = {
    "nyquist_x": N_(
        "The pixel size must be at most the Nyquist distance set by the "
        "objective's NA and the wavelength: larger pixels lose detail for good and "
        "can create false patterns (aliasing); much smaller pixels only add data "
        "and light dose."
    ),
    "nyquist_z": N_(
        "The z-step must be at most the axial Nyquist distance: a larger step "
        "loses what lies between the planes; a much smaller one multiplies planes, "
        "data and bleaching."
    ),
    "oversampling": N_(
        "Oversampling costs disk space, transfer time and light on the sample "
        "without adding information: the guide asks to generate the least data "
        "possible."
    ),
    "snr": N_(
        "The signal-to-noise ratio says how precisely an intensity is measured. "
        "Too low, measurements are noisy; far above what the question needs, the "
        "sample received more light than necessary."
    ),
    "cnr": N_(
        "The contrast-to-noise ratio says whether objects stand out from the "
        "background: below about 5 (the Rose criterion) they may not be detected "
        "reliably."
    ),
    "snr_poisson": N_(
        "With the camera's gain and offset known, the number of photons gives the "
        "best signal-to-noise ratio the light allowed."
    ),
    "saturation": N_(
        'A pixel at the detector\'s ceiling means "at least this much", not a '
        "measurement: intensities, sums and ratios there are wrong and cannot be "
        "corrected afterwards. Lower the exposure, laser power or gain."
    ),
    "zero_clipping": N_(
        "Values cut at zero hide the noise floor, so background and faint "
        "intensities become wrong; the camera offset is too low, or background was "
        "subtracted at acquisition."
    ),
    "pileup": N_(
        "Many pixels at one top or bottom value reveal a limit the file does not "
        "state: those pixels are clipped."
    ),
    "dynamic_range": N_(
        "Using little of the detector's range means few photons and noisy images; "
        "raise the exposure or gain if the sample tolerates it."
    ),
    "na_vs_immersion": N_(
        "The NA cannot exceed the refractive index of the immersion medium: such "
        "a value is a typing or file error and makes the sampling checks wrong."
    ),
    "immersion_vs_ri": N_(
        "The refractive index enters the axial Nyquist distance: it must match "
        "the immersion medium."
    ),
    "stokes_shift": N_(
        "Fluorescence is emitted at a longer wavelength than it is excited: a "
        "reversed pair means swapped or wrong wavelengths, and wrong sampling "
        "limits."
    ),
    "pixel_size_magnification": N_(
        "Pixel size times magnification gives the size of the camera's pixel: an "
        "implausible product reveals a wrong calibration or magnification."
    ),
    "camera_sampling": N_(
        "The camera pixel divided by the magnification and the binning must give "
        "the stated pixel size; otherwise the calibration is wrong."
    ),
    "uncalibrated_pixels": N_(
        "Without a physical pixel size there is no measurement in µm and no "
        "sampling check."
    ),
    "z_step": N_("The z-step is needed for volumes and for the axial sampling check."),
    "acquisition_date": N_(
        "The date goes into the dataset's name and its provenance; a wrong clock "
        "makes datasets hard to find and to put in order."
    ),
    "channel_count": N_(
        "Every channel needs a description (name, wavelengths, fluorophore) for "
        "the data to be reusable by someone else."
    ),
    "bit_depth": N_(
        "The bit depth sets the saturation ceiling: a wrong one hides or invents "
        "saturation."
    ),
}
CHECKS["nyquist_y"] = CHECKS["nyquist_x"]

FIELDS: dict[str, str] = {
    "naming.date": N_(
        "The acquisition date opens the name (YYYY-MM-DD, ISO 8601) so that "
        "datasets sort by date; it comes from the file when the file states it."
    ),
    "naming.project": N_(
        "The project's acronym, as your facility lists it (e.g. TNT): it groups "
        "the datasets of one project."
    ),
    "naming.sample": N_(
        "What was imaged, in one short word without spaces or accents (e.g. "
        "MicroAlgue): it tells datasets of one project apart."
    ),
    "naming.creator": N_(
        "Who acquired the data: initial and family name without spaces (e.g. "
        "ALebon), so a question about the data reaches the right person."
    ),
    "naming.condition": N_(
        "The experimental condition (e.g. Controle, Treated): it tells datasets of "
        "one sample apart."
    ),
    "naming.datatype": N_(
        "RAW for data as acquired; processed data get another type (DECON, MIP…) "
        "so raw and derived data are never confused."
    ),
    "naming.version": N_(
        "v01 first; a save never overwrites: an existing name gets the next version."
    ),
    "study.title": N_(
        "The study's title is how others will find the dataset in a repository "
        "(REMBI Study)."
    ),
    "study.description": N_(
        "A few sentences on the aim of the study help others judge if the data "
        "fits their question."
    ),
    "study.authors": N_(
        "Who made the data, with an ORCID when possible: credit and a contact for "
        "reuse (Name|ORCID|affiliation; separate authors with ';')."
    ),
    "study.licence": N_(
        "The licence says how others may reuse the data; without one, reuse is "
        "legally unclear."
    ),
    "study.keywords": N_("Keywords make the dataset findable in a repository."),
    "study.funding": N_("Funders often require their grant to be cited with the data."),
    "study.related_publication_doi": N_(
        "The DOI of the article that uses the data links data and results."
    ),
    "study.publisher": N_(
        "The facility or institution that publishes the data (DataCite publisher)."
    ),
    "study.language": N_("The language of the free text, for the metadata records."),
    "operator": N_(
        "Who ran the acquisition and this form: recorded with any accepted check."
    ),
    "study_component.name": N_(
        "A study component groups the images that share one protocol (REMBI)."
    ),
    "study_component.description": N_(
        "What the images of this component have in common: protocol, purpose."
    ),
    "study_component.imaging_method": N_(
        "The imaging method from the FBbi ontology (e.g. fluorescence "
        "microscopy): a shared vocabulary makes the data findable across "
        "repositories."
    ),
    "biosample.organism": N_(
        "The organism from NCBI Taxonomy (e.g. Homo sapiens): reusers search by "
        "organism first. Check it when a template or your last entries set it."
    ),
    "biosample.biological_entity": N_(
        "What the sample is: tissue, cell line, organelle (REMBI Biosample)."
    ),
    "biosample.intrinsic_variables": N_(
        "What the sample is made of: genotype, strain, cell line."
    ),
    "biosample.extrinsic_variables": N_(
        "What was done to the sample: treatment, dose, duration."
    ),
    "biosample.experimental_variables": N_(
        "What varies between the samples of the experiment."
    ),
    "specimen.preparation_protocol": N_(
        "How the specimen was prepared (fixation, mounting medium and its "
        "refractive index): needed to reproduce the images and to judge them."
    ),
    "specimen.channels": N_(
        "What each channel shows (fluorophore and target): without it the "
        "channels cannot be interpreted."
    ),
    "image_acquisition.instrument": N_(
        "The microscope used: the facility's name for it, so the settings can be "
        "traced."
    ),
    "image_acquisition.acquisition_datetime": N_(
        "When the acquisition started, with its time zone (ISO 8601)."
    ),
    "image_acquisition.objective": N_(
        "The objective's model: with its NA it sets the resolution."
    ),
    "image_acquisition.objective_magnification": N_(
        "The magnification cross-checks the pixel size."
    ),
    "image_acquisition.objective_na": N_(
        "The numerical aperture sets the resolution and the Nyquist sampling "
        "limits: a correction here changes the checks and the saved metadata."
    ),
    "image_acquisition.immersion": N_(
        "The immersion medium gives the refractive index used for the axial "
        "sampling limit."
    ),
    "image_acquisition.pixel_size_x_um": N_(
        "The pixel size makes measurements physical (µm) and is judged against "
        "the Nyquist limit."
    ),
    "image_acquisition.pixel_size_y_um": N_(
        "The pixel size makes measurements physical (µm) and is judged against "
        "the Nyquist limit."
    ),
    "image_acquisition.pixel_size_z_um": N_(
        "The z-step makes volumes physical and is judged against the axial "
        "Nyquist limit."
    ),
    "image_acquisition.channels": N_(
        "The wavelengths and exposure of each channel, as acquired: they set the "
        "sampling limits and make the acquisition reproducible."
    ),
}


def why_step(step: str) -> str:
    """Why a step of the assistant matters ("" for an unknown step)."""
    note = STEPS.get(step)
    return _(note) if note else ""


def why_check(check: str) -> str:
    """Why a quality check matters ("" for an unknown check)."""
    note = CHECKS.get(check)
    return _(note) if note else ""


def why_field(path: str) -> str:
    """Why a form field matters ("" for a field without a note)."""
    note = FIELDS.get(path)
    return _(note) if note else ""
